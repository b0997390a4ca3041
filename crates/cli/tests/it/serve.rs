//! `portcullis serve --demo` over real HTTP: the built binary on a free port, a real SQLite
//! store in a temporary directory, and a plain HTTP client with a hand-kept cookie jar.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use portcullis_web::secret::{MasterSecret, Purpose};
use portcullis_web::ticket::{AuthTktCookie, ClientIp, TicketRequest, TicketSecret, UserId};

use crate::util::{ServeBuilder, ServeProcess, agent, run};

/// A known master secret, so the tests can derive the server's ticket key.
const SECRET: &str = "integration-test master secret, 32+ bytes long";

/// `portcullis serve --demo` in a fresh temporary directory with `secret` in
/// `PORTCULLIS_SECRET` (`None`: unset).
fn start(secret: Option<&str>) -> ServeProcess {
    start_with(ServeProcess::demo(), secret)
}

/// Starts `demo` with `secret` in `PORTCULLIS_SECRET` (`None`: unset).
fn start_with(demo: ServeBuilder, secret: Option<&str>) -> ServeProcess {
    match secret {
        Some(s) => demo.env("PORTCULLIS_SECRET", s),
        None => demo,
    }
    .start()
}

/// What these tests do with a running demo.
trait DemoServer {
    /// A fresh browser-ish client of the server.
    fn client(&self) -> Client;
    /// The store id of `user` (the first line of `portcullis principals`).
    fn user_id(&self, user: &str) -> i64;
}

impl DemoServer for ServeProcess {
    fn client(&self) -> Client {
        Client::new(&self.base())
    }

    fn user_id(&self, user: &str) -> i64 {
        let out = self.cli(&["principals", user]);
        assert_eq!(out.code, 0, "{out:?}");
        out.stdout.lines().next().unwrap().parse().unwrap()
    }
}

/// One HTTP answer.
#[derive(Debug)]
struct Resp {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    content_type: String,
    body: String,
}

impl Resp {
    /// The `Set-Cookie` value for cookie `name`, if any.
    fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .map(String::as_str)
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The value of the hidden `csrf_token` field.
    fn csrf_token(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let at = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no csrf_token field: {}", self.body));
        let rest = &self.body[at + marker.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

/// A browser-ish client: no redirects followed, cookies kept by hand.
struct Client {
    agent: ureq::Agent,
    base: String,
    jar: BTreeMap<String, String>,
}

impl Client {
    fn new(base: &str) -> Client {
        Client {
            agent: agent(),
            base: base.to_owned(),
            jar: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, resp: &Resp) {
        for c in &resp.set_cookies {
            let pair = c.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let expired = c.contains("Max-Age=0") || value.is_empty();
            if expired {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn finish(&mut self, resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Resp {
        let mut resp = resp.expect("HTTP request");
        let headers = resp.headers();
        let out_headers = (
            headers
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned()),
            headers
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>(),
            headers
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
        );
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        let resp = Resp {
            status,
            location: out_headers.0,
            set_cookies: out_headers.1,
            content_type: out_headers.2,
            body,
        };
        self.remember(&resp);
        resp
    }

    /// GET as a browser (`Accept: text/html`).
    fn get(&mut self, path: &str) -> Resp {
        let mut req = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8");
        if !self.jar.is_empty() {
            req = req.header("Cookie", self.cookie_header());
        }
        let resp = req.call();
        self.finish(resp)
    }

    /// GET as an API client (`Accept: application/json`).
    fn get_api(&mut self, path: &str) -> Resp {
        let mut req = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Accept", "application/json");
        if !self.jar.is_empty() {
            req = req.header("Cookie", self.cookie_header());
        }
        let resp = req.call();
        self.finish(resp)
    }

    /// POST a form as a browser.
    fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Accept", "text/html");
        if !self.jar.is_empty() {
            req = req.header("Cookie", self.cookie_header());
        }
        let resp = req.send_form(fields.iter().copied());
        self.finish(resp)
    }

    /// POST a raw body with a content type.
    fn post_raw(&mut self, path: &str, content_type: &str, body: &str) -> Resp {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Accept", "text/html")
            .header("Content-Type", content_type);
        if !self.jar.is_empty() {
            req = req.header("Cookie", self.cookie_header());
        }
        let resp = req.send(body);
        self.finish(resp)
    }

    /// Opens the login form (for its CSRF token) and submits it.
    fn login(&mut self, login: &str, password: &str, came_from: &str) -> Resp {
        let form = self.get("/login");
        assert_eq!(form.status, 200, "{form:?}");
        let token = form.csrf_token();
        self.post(
            "/login",
            &[
                ("login", login),
                ("password", password),
                ("csrf_token", &token),
                ("came_from", came_from),
            ],
        )
    }

    fn ticket(&self) -> Option<&str> {
        self.jar.get("auth_tkt").map(String::as_str)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Asserts a browser request was treated as anonymous: sent to the login page.
fn assert_sent_to_login(resp: &Resp, came_from: &str) {
    assert_eq!(resp.status, 303, "{resp:?}");
    assert_eq!(
        resp.location.as_deref(),
        Some(format!("/login?came_from={came_from}").as_str()),
        "{resp:?}"
    );
}

#[test]
fn anonymous_browsers_go_to_the_login_page_and_api_clients_get_401() {
    let server = start(None);
    assert!(
        server.stderr().contains("generated an ephemeral one"),
        "{}",
        server.stderr()
    );
    let mut c = server.client();
    // `/` in a query needs no escaping: `came_from=/` is `came_from=%2F` decoded.
    assert_sent_to_login(&c.get("/"), "/");
    assert_sent_to_login(&c.get("/secret"), "/secret");
    let api = c.get_api("/");
    assert_eq!(api.status, 401, "{api:?}");
    assert!(api.content_type.starts_with("application/json"), "{api:?}");
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json["code"], 401);
    assert_eq!(json["permission"], "entry");
    // Public pages answer anonymous visitors.
    let login = c.get("/login?came_from=%2Fsecret");
    assert_eq!(login.status, 200, "{login:?}");
    assert!(login.content_type.starts_with("text/html"), "{login:?}");
    for field in [
        "name=\"login\"",
        "name=\"password\"",
        "type=\"hidden\" name=\"csrf_token\"",
        "name=\"came_from\" value=\"/secret\"",
        "autocomplete=\"username\"",
        "autocomplete=\"current-password\"",
        "<label for=\"login\">",
    ] {
        assert!(login.body.contains(field), "{field}: {}", login.body);
    }
    let csrf = login.set_cookie("csrf_token").expect("a CSRF cookie");
    assert!(
        csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"),
        "{csrf}"
    );
    let logout = c.get("/logout");
    assert_eq!(logout.status, 200);
    assert!(logout.body.contains("not logged in"), "{}", logout.body);
    assert_eq!(
        c.get("/no/such/page").status,
        303,
        "undeclared paths need `entry`"
    );
}

#[test]
fn login_form_checks_csrf_and_fails_generically() {
    let server = start(None);
    let mut c = server.client();
    let form = c.get("/login");
    let token = form.csrf_token();
    // Without a CSRF token, with a wrong one, and with a good token but no cookie.
    let none = c.post(
        "/login",
        &[("login", "genericuser"), ("password", "basic123")],
    );
    assert_eq!(none.status, 400, "{none:?}");
    assert!(none.body.contains("bad csrf token"), "{}", none.body);
    let bad = c.post(
        "/login",
        &[
            ("login", "genericuser"),
            ("password", "basic123"),
            ("csrf_token", "forged"),
        ],
    );
    assert_eq!(bad.status, 400, "{bad:?}");
    assert!(
        bad.body
            .contains("bad csrf token: the token does not match"),
        "{}",
        bad.body
    );
    let mut cookieless = server.client();
    let stolen = cookieless.post(
        "/login",
        &[
            ("login", "genericuser"),
            ("password", "basic123"),
            ("csrf_token", &token),
        ],
    );
    assert_eq!(stolen.status, 400, "{stolen:?}");
    for r in [&none, &bad, &stolen] {
        assert!(r.set_cookie("auth_tkt").is_none(), "{r:?}");
    }
    // Wrong password and unknown user: the same generic message, no ticket.
    let wrong = c.post(
        "/login",
        &[
            ("login", "genericuser"),
            ("password", "nope"),
            ("csrf_token", &token),
        ],
    );
    let unknown = c.post(
        "/login",
        &[
            ("login", "nobody"),
            ("password", "nope"),
            ("csrf_token", &token),
        ],
    );
    for r in [&wrong, &unknown] {
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.body.contains("Login failed"), "{}", r.body);
        assert!(r.set_cookie("auth_tkt").is_none(), "{r:?}");
        assert!(!r.body.contains("nope"), "the password is never echoed");
    }
    assert!(
        wrong.body.contains("value=\"genericuser\""),
        "the login is kept"
    );
    assert!(c.ticket().is_none());
    // Malformed bodies: 400 with a message, never 500.
    let json = c.post_raw("/login", "application/json", "{\"login\":\"genericuser\"}");
    assert_eq!(json.status, 400, "{json:?}");
    assert!(json.body.contains("bad csrf token"), "{}", json.body);
    let dup = c.post_raw(
        "/login",
        "application/x-www-form-urlencoded",
        &format!("login=a&login=b&password=x&csrf_token={token}"),
    );
    assert_eq!(dup.status, 400, "{dup:?}");
    let missing = c.post_raw(
        "/login",
        "application/x-www-form-urlencoded",
        &format!("%%%&&==&csrf_token={token}"),
    );
    assert_eq!(missing.status, 400, "{missing:?}");
    assert!(
        missing.body.contains("`login` and `password`"),
        "{}",
        missing.body
    );
    let bad_utf8 = c.post_raw(
        "/login",
        "application/x-www-form-urlencoded",
        &format!("login=%FF%FE&password=x&csrf_token={token}"),
    );
    // Invalid UTF-8 is decoded lossily (U+FFFD): just a login that fails.
    assert_eq!(bad_utf8.status, 200, "{bad_utf8:?}");
    assert!(bad_utf8.body.contains("Login failed"), "{}", bad_utf8.body);
    // A cross-origin submission is refused even with a valid token.
    let mut req = c
        .agent
        .post(format!("{}/login", c.base))
        .header("Origin", "http://evil.example")
        .header("Cookie", c.cookie_header());
    req = req.header("Accept", "text/html");
    let cross = c.finish(req.send_form([
        ("login", "genericuser"),
        ("password", "basic123"),
        ("csrf_token", token.as_str()),
    ]));
    assert_eq!(cross.status, 400, "{cross:?}");
    assert!(cross.body.contains("bad csrf origin"), "{}", cross.body);
    // And the real thing works with the same token.
    let ok = c.post(
        "/login",
        &[
            ("login", "genericuser"),
            ("password", "basic123"),
            ("csrf_token", &token),
        ],
    );
    assert_eq!(ok.status, 303, "{ok:?}");
    assert!(c.ticket().is_some());
}

#[test]
fn generic_user_enters_but_gets_a_403_page_naming_topsecret() {
    let server = start(None);
    let mut c = server.client();
    let login = c.login("genericuser", "basic123", "/");
    assert_eq!(login.status, 303, "{login:?}");
    assert_eq!(login.location.as_deref(), Some("/"));
    let cookie = login.set_cookie("auth_tkt").expect("a ticket");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(
        !cookie.contains("secure"),
        "loopback demo: no Secure flag: {cookie}"
    );
    let home = c.get("/");
    assert_eq!(home.status, 200, "{home:?}");
    assert!(
        home.set_cookie("csrf_token").is_some(),
        "a new CSRF token after the login (tokens are bound to the user)"
    );
    assert!(
        home.body
            .contains("Welcome back, <strong>genericuser</strong>!"),
        "{}",
        home.body
    );
    let secret = c.get("/secret");
    assert_eq!(secret.status, 403, "{secret:?}");
    assert!(secret.content_type.starts_with("text/html"), "{secret:?}");
    assert!(
        secret
            .body
            .contains("<strong>topsecret</strong> permission"),
        "{}",
        secret.body
    );
    assert!(!secret.body.contains("42"), "{}", secret.body);
    let api = c.get_api("/secret");
    assert_eq!(api.status, 403);
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json["permission"], "topsecret");
    // The login page knows who is logged in.
    assert!(
        c.get("/login")
            .body
            .contains("logged in as <strong>genericuser</strong>")
    );
}

#[test]
fn superuser_reads_the_secret_and_came_from_is_honoured_only_on_this_site() {
    let server = start(None);
    let mut c = server.client();
    let login = c.login("superuser", "secret123", "/secret");
    assert_eq!(login.status, 303, "{login:?}");
    assert_eq!(login.location.as_deref(), Some("/secret"));
    let secret = c.get("/secret");
    assert_eq!(secret.status, 200, "{secret:?}");
    assert!(
        secret
            .body
            .contains("The secret is: <strong id=\"secret\">42</strong>"),
        "{}",
        secret.body
    );
    let home = c.get("/");
    assert!(
        home.body
            .contains("Welcome back, <strong>superuser</strong>!")
    );
    for evil in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/%2F%2Fevil.example",
    ] {
        let mut other = server.client();
        let r = other.login("superuser", "secret123", evil);
        assert_eq!(r.status, 303, "{r:?}");
        assert_eq!(r.location.as_deref(), Some("/"), "{evil}");
    }
    let mut no_target = server.client();
    let r = no_target.login("superuser", "secret123", "");
    assert_eq!(r.location.as_deref(), Some("/"));
}

#[test]
fn logout_needs_the_csrf_token_and_clears_the_ticket() {
    let server = start(None);
    let mut c = server.client();
    let before = c.get("/login").csrf_token();
    assert_eq!(c.login("genericuser", "basic123", "/").status, 303);
    let stale = c.post("/logout", &[("csrf_token", &before)]);
    assert_eq!(
        stale.status, 400,
        "a token from before the login: {stale:?}"
    );
    let page = c.get("/logout");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.body
            .contains("<form method=\"post\" action=\"/logout\">"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("logged in as <strong>genericuser</strong>")
    );
    let token = page.csrf_token();
    // Without the token (or with a wrong one) nothing happens.
    let refused = c.post("/logout", &[]);
    assert_eq!(refused.status, 400, "{refused:?}");
    let wrong = c.post("/logout", &[("csrf_token", "x")]);
    assert_eq!(wrong.status, 400, "{wrong:?}");
    assert_eq!(c.get("/").status, 200, "still logged in");
    let out = c.post("/logout", &[("csrf_token", &token)]);
    assert_eq!(out.status, 303, "{out:?}");
    assert_eq!(out.location.as_deref(), Some("/login"));
    let cleared = out.set_cookie("auth_tkt").expect("the ticket is cleared");
    assert!(cleared.starts_with("auth_tkt=;"), "{cleared}");
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("expires="),
        "{cleared}"
    );
    assert!(c.ticket().is_none());
    assert_sent_to_login(&c.get("/"), "/");
}

#[test]
fn forged_expired_and_blocked_user_tickets_are_anonymous() {
    let server = start(Some(SECRET));
    assert!(
        !server.stderr().contains("ephemeral"),
        "{}",
        server.stderr()
    );
    let mut c = server.client();
    assert_eq!(c.login("genericuser", "basic123", "/").status, 303);
    let ticket = c.ticket().unwrap().to_owned();
    assert_eq!(c.get("/").status, 200);

    // Forged: one digest character flipped.
    let mut forged = ticket.clone().into_bytes();
    forged[0] = if forged[0] == b'0' { b'1' } else { b'0' };
    let mut f = server.client();
    f.jar
        .insert("auth_tkt".to_owned(), String::from_utf8(forged).unwrap());
    assert_sent_to_login(&f.get("/"), "/");
    // Forged differently: the userid changed to superuser's, digest kept.
    let superuser = server.user_id("superuser");
    let genericuser = server.user_id("genericuser");
    let (digest_and_time, rest) = ticket.split_at(128 + 8);
    let swapped = rest.replacen(&genericuser.to_string(), &superuser.to_string(), 1);
    let mut s = server.client();
    s.jar
        .insert("auth_tkt".to_owned(), format!("{digest_and_time}{swapped}"));
    assert_sent_to_login(&s.get("/"), "/");

    // Tickets made outside the server with the same master secret: a fresh one works
    // (the derivation matches), one issued two hours ago has expired (timeout 1 h).
    let master = MasterSecret::new(SECRET.as_bytes().to_vec()).unwrap();
    let helper = AuthTktCookie::builder(TicketSecret::derived(&master))
        .build()
        .unwrap();
    let host = server.base().trim_start_matches("http://").to_owned();
    let req = TicketRequest::new(&host, ClientIp::UNSPECIFIED);
    let issue = |time: u64| {
        let set = helper
            .remember(&UserId::Int(genericuser), &[], &req, time)
            .unwrap();
        let pair = set[0].split(';').next().unwrap();
        pair.strip_prefix("auth_tkt=").unwrap().to_owned()
    };
    let mut fresh = server.client();
    fresh.jar.insert("auth_tkt".to_owned(), issue(now()));
    let home = fresh.get("/");
    assert_eq!(home.status, 200, "{home:?}");
    assert!(home.body.contains("genericuser"));
    let mut old = server.client();
    old.jar.insert("auth_tkt".to_owned(), issue(now() - 7200));
    assert_sent_to_login(&old.get("/"), "/");
    // The same expired ticket from `portcullis ticket issue` (the derived key is the
    // ticket secret, as 64 hex characters).
    let hex = master.derive(&Purpose::Tickets).to_hex();
    let time = (now() - 7200).to_string();
    let cli = run(&[
        "ticket",
        "issue",
        "--secret",
        hex.as_str(),
        "--userid",
        &genericuser.to_string(),
        "--user-data",
        "userid_type:int",
        "--time",
        &time,
    ]);
    assert_eq!(cli.code, 0, "{cli:?}");
    let mut old_cli = server.client();
    old_cli
        .jar
        .insert("auth_tkt".to_owned(), cli.stdout.trim().to_owned());
    assert_sent_to_login(&old_cli.get("/"), "/");
    let cli_now = run(&[
        "ticket",
        "issue",
        "--secret",
        hex.as_str(),
        "--userid",
        &genericuser.to_string(),
        "--user-data",
        "userid_type:int",
    ]);
    let mut new_cli = server.client();
    new_cli
        .jar
        .insert("auth_tkt".to_owned(), cli_now.stdout.trim().to_owned());
    assert_eq!(
        new_cli.get("/").status,
        200,
        "a CLI ticket made now is valid"
    );

    // Blocked: the still-valid cookie authenticates nobody on the next request, and the
    // password no longer logs in.
    let block = server.cli(&["user", "block", "genericuser"]);
    assert_eq!(block.code, 0, "{block:?}");
    assert_sent_to_login(&c.get("/"), "/");
    assert_eq!(c.get_api("/").status, 401);
    let again = c.login("genericuser", "basic123", "/");
    assert_eq!(again.status, 200, "{again:?}");
    assert!(again.body.contains("Login failed"));
    // Unblocked, the old ticket is honoured again (it has not expired).
    assert_eq!(server.cli(&["user", "unblock", "genericuser"]).code, 0);
    let mut back = server.client();
    back.jar.insert("auth_tkt".to_owned(), ticket);
    assert_eq!(back.get("/").status, 200);
}

#[test]
fn a_short_or_empty_secret_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("x.sqlite").display());
    for secret in ["short", ""] {
        let out = ServeProcess::demo_on(&database)
            .env("PORTCULLIS_SECRET", secret)
            .run();
        let stderr = &out.stderr;
        assert_eq!(out.code, 2, "{stderr}");
        assert!(
            stderr.starts_with("error: invalid master secret in `PORTCULLIS_SECRET`"),
            "{stderr}"
        );
        assert!(stderr.contains("at least 32"), "{stderr}");
        assert!(!stderr.contains("listening"), "{stderr}");
    }
    // A secret in a configuration file is refused the same way.
    let config = dir.path().join("portcullis.toml");
    std::fs::write(&config, "secret = \"0123456789\"\n").unwrap();
    let out = ServeProcess::demo_on(&database)
        .arg("--config")
        .arg(&config)
        .run();
    let stderr = &out.stderr;
    assert_eq!(out.code, 2, "{stderr}");
    assert!(stderr.contains("too short (10 bytes)"), "{stderr}");
    // Without `--demo` the portal is served; an unreadable configuration stops it.
    let out = run(&[
        "serve",
        "--database",
        &database,
        "--config",
        "/no/such/portal.toml",
    ]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("cannot read the configuration file"),
        "{out:?}"
    );
}

#[test]
fn restarting_keeps_the_demo_users_and_a_configured_secret_keeps_logins() {
    let first = start(Some(SECRET));
    assert!(first.stderr().contains("created demo user `genericuser`"));
    let mut c = first.client();
    assert_eq!(c.login("superuser", "secret123", "/").status, 303);
    let ticket = c.ticket().unwrap().to_owned();
    let second = start_with(ServeProcess::demo_on(first.database()), Some(SECRET));
    assert!(
        second
            .stderr()
            .contains("demo user `superuser` exists: left as it is"),
        "{}",
        second.stderr()
    );
    let mut c2 = second.client();
    c2.jar.insert("auth_tkt".to_owned(), ticket);
    let secret = c2.get("/secret");
    assert_eq!(
        secret.status, 200,
        "the ticket survives a restart: {secret:?}"
    );
}

/// Seed 001's admin side: `g:admin` holds every permission under `/admin`; everyone else
/// gets the 403 sign-in page there; `/public` is for everyone.
#[test]
fn the_admin_side_is_for_administrators_only() {
    let server = start(Some(SECRET));
    assert!(
        server.stderr().contains("admin/admin123 (group admin)"),
        "{}",
        server.stderr()
    );
    let mut anon = server.client();
    // The public side: anyone.
    let public = anon.get("/public");
    assert_eq!(public.status, 200, "{public:?}");
    assert!(public.body.contains("not signed in"), "{public:?}");
    // Anonymous at /admin: the seed's sign-in page, with status 403 (not a redirect).
    for path in ["/admin", "/admin/users", "/public/../admin"] {
        let page = anon.get(path);
        assert_eq!(page.status, 403, "{path}: {page:?}");
        assert!(
            page.body
                .contains("You need to sign in as an administrator"),
            "{page:?}"
        );
        assert!(page.body.contains("/login?came_from=/admin"), "{page:?}");
    }
    // API clients get the usual JSON 401.
    assert_eq!(anon.get_api("/admin").status, 401);

    // A logged-in user who is not an administrator: the same page, saying so.
    let mut basic = server.client();
    assert_eq!(basic.login("genericuser", "basic123", "/").status, 303);
    let page = basic.get("/admin");
    assert_eq!(page.status, 403, "{page:?}");
    assert!(
        page.body.contains("signed in, but not as an administrator"),
        "{page:?}"
    );
    assert_eq!(basic.get_api("/admin/users").status, 403);
    let public = basic.get("/public");
    assert!(public.body.contains("genericuser"), "{public:?}");

    // The administrator: back to /admin after signing in, and every admin page.
    let mut admin = server.client();
    let login = admin.login("admin", "admin123", "/admin");
    assert_eq!(login.status, 303, "{login:?}");
    assert_eq!(login.location.as_deref(), Some("/admin"));
    let home = admin.get("/admin");
    assert_eq!(home.status, 200, "{home:?}");
    assert!(
        home.body
            .contains("Welcome to the admin side, <strong id=\"admin-user\">admin</strong>"),
        "{home:?}"
    );
    let users = admin.get("/admin/users");
    assert_eq!(users.status, 200, "{users:?}");
    for name in ["genericuser", "superuser", "admin"] {
        assert!(
            users.body.contains(&format!("<td>{name}</td>")),
            "{users:?}"
        );
    }
    // ALL_PERMISSIONS holds under /admin only: the simpleauth pages are not theirs.
    assert_eq!(admin.get("/secret").status, 403);

    // Blocked, the administrator's ticket authenticates nobody: the sign-in page again.
    assert_eq!(server.cli(&["user", "block", "admin"]).code, 0);
    let page = admin.get("/admin");
    assert_eq!(page.status, 403, "{page:?}");
    assert!(!page.body.contains("signed in, but"), "{page:?}");
}

#[test]
fn a_bad_policy_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("p.sqlite").display());
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[resource]]\npath = \"/\"\nacl = [[\"Allow\", \"system.Everyone\"]]\n",
    )
    .unwrap();
    let policy = policy.to_str().unwrap();
    let out = run(&["serve", "--database", &database, "--policy", policy]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .starts_with(&format!("error: invalid policy: {policy}:3:")),
        "{out:?}"
    );
    assert!(!out.stderr.contains("listening"), "{out:?}");
    // An unknown key, and a predicate that does not parse: both with their line.
    let bad = dir.path().join("bad.toml");
    for (text, line) in [
        ("[[resource]]\npath = \"/\"\npermision = \"view\"\n", 3),
        (
            "\n[[resource]]\npath = \"/a\"\nrequire = 'in_group(\"x\" and'\n",
            4,
        ),
    ] {
        std::fs::write(&bad, text).unwrap();
        let bad = bad.to_str().unwrap();
        let out = run(&["serve", "--database", &database, "--policy", bad]);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(
            out.stderr.contains(&format!("{bad}:{line}:")),
            "{text}: {out:?}"
        );
    }
    // A missing file; and `policy` in the configuration, which the flag overrides.
    let out = run(&[
        "serve",
        "--database",
        &database,
        "--policy",
        "/no/such.toml",
    ]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("cannot read the policy file `/no/such.toml`"),
        "{out:?}"
    );
    let config = dir.path().join("portcullis.toml");
    std::fs::write(&config, format!("policy = \"{policy}\"\n")).unwrap();
    let config = config.to_str().unwrap();
    let out = run(&["serve", "--database", &database, "--config", config]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(&format!("{policy}:3:")), "{out:?}");
    let out = run(&[
        "serve",
        "--database",
        &database,
        "--config",
        config,
        "--policy",
        "/no/such.toml",
    ]);
    assert!(out.stderr.contains("`/no/such.toml`"), "{out:?}");
    // The policy is for forward auth: the demo refuses it.
    let out = run(&[
        "serve",
        "--demo",
        "--database",
        &database,
        "--policy",
        policy,
    ]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--policy"), "{out:?}");
}
