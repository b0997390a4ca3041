//! Forward auth over real HTTP: `portcullis serve --policy` answering `/auth/verify`,
//! first asked directly (the test plays the trusted proxy), then behind a real nginx
//! (`auth_request`, Debian's package; `PORTCULLIS_TEST_NGINX`, installed by
//! `.ci/setup.d/50-nginx.sh`) in front of a small backend, all on loopback.
//!
//! nginx runs in the foreground with its own prefix, configuration, pid file, logs and
//! temporary directories in a temporary directory, on an ephemeral port; it connects to
//! Portcullis from `127.0.0.2` (`proxy_bind`), the only trusted proxy, so a client on
//! `127.0.0.1` that asks `/auth/verify` directly is not believed.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{
    KillOnDrop, ServeProcess, agent, api_login, free_port, run_in, write_portal_config,
};

const PASSWORD: &str = "correct horse battery staple 42";

const POLICY: &str = r#"
[[resource]]
path = "/"
acl = [["Allow", "system.Authenticated", "view"],
       ["Allow", "group:editors", "edit"]]

[[resource]]
path = "/public"
permission = "NO_PERMISSION_REQUIRED"

[[resource]]
path = "/private"
permission = "edit"
"#;

/// A backend that echoes what nginx passed on: `uri`, `x-auth-user`, `x-auth-groups`.
fn start_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = axum::Router::new().fallback(|req: axum::extract::Request| async move {
                let h = |n: &str| {
                    req.headers()
                        .get(n)
                        .map(|v| v.to_str().unwrap_or("<bytes>").to_owned())
                        .unwrap_or_else(|| "<none>".to_owned())
                };
                format!(
                    "backend uri={} user={} groups={}\n",
                    req.uri(),
                    h("x-auth-user"),
                    h("x-auth-groups")
                )
            });
            let _ = axum::serve(listener, app).await;
        });
    });
    addr
}

/// One answer.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

fn finish(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Resp {
    let mut resp = resp.expect("HTTP request");
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or("<bytes>").to_owned(),
            )
        })
        .collect();
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    Resp {
        status,
        headers,
        body,
    }
}

fn get(url: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    finish(req.call())
}

/// Logs in as `username` (with [`PASSWORD`]) through `/auth/api/login` at `base`: the
/// session cookie as `name=value`.
fn login(base: &str, username: &str) -> String {
    api_login(base, username, PASSWORD)
}

/// Creates `alice` (group editors) and `bob` (no group) with [`PASSWORD`].
fn create_users(dir: &Path, database: &str) {
    let out = run_in(
        Some(dir),
        &["group", "add", "editors", "--database", database],
        "",
    );
    assert_eq!(out.code, 0, "{out:?}");
    for (user, groups) in [("alice", &["--group", "editors"][..]), ("bob", &[][..])] {
        let email = format!("{user}@example.test");
        let mut args = vec!["user", "add", user, "--email", &email];
        args.extend_from_slice(groups);
        args.extend(["--database", database]);
        let out = run_in(Some(dir), &args, &format!("{PASSWORD}\n"));
        assert_eq!(out.code, 0, "{out:?}");
    }
}

/// `portcullis serve --policy` (the portal with forward auth) for the tests below: in its
/// own temporary directory, `alice` and `bob` created ([`create_users`]) before the start,
/// [`POLICY`] in `policy.toml`, `public_url` and the one trusted proxy in `portal.toml`,
/// authorization decisions logged (`PORTCULLIS_DEBUG_AUTHORIZATION=1`).
struct ForwardAuth {
    /// Dropped after `server` (fields drop in order): the server is gone first.
    server: ServeProcess,
    dir: tempfile::TempDir,
}

impl ForwardAuth {
    fn start(public_url: &str, trusted_proxy: &str) -> ForwardAuth {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", dir.path().join("fa.sqlite").display());
        create_users(dir.path(), &database);
        let policy = dir.path().join("policy.toml");
        std::fs::write(&policy, POLICY).unwrap();
        let config = write_portal_config(
            dir.path(),
            public_url,
            &format!("trusted_proxies = [\"{trusted_proxy}\"]\n"),
        );
        let server = ServeProcess::portal_on(&database, &config, &dir.path().join("mail"))
            .arg("--policy")
            .arg(&policy)
            .env("PORTCULLIS_DEBUG_AUTHORIZATION", "1")
            .in_dir(dir.path())
            .start();
        ForwardAuth { server, dir }
    }
}

/// The proxy binary named by `var` (`.ci/setup.d/50-nginx.sh` installs Debian's `package`
/// and sets it), or `None` after printing `skipped: ...` when it is unset.
fn proxy_binary(var: &str, package: &str) -> Option<std::ffi::OsString> {
    let binary = std::env::var_os(var);
    if binary.is_none() {
        println!(
            "skipped: {var} is not set (.ci/setup.d/50-nginx.sh installs Debian's {package} \
             and sets it)"
        );
    }
    binary
}

/// [`ForwardAuth`] for a proxy to front, believing `trusted_proxy` only, with the rest of
/// the stack: the echo backend ([`start_backend`]) the proxy is to pass on to, the free
/// port the proxy is to listen on, and `http://127.0.0.1:PORT` (the `public_url`).
fn start_proxied(trusted_proxy: &str) -> (ForwardAuth, SocketAddr, u16, String) {
    let backend = start_backend();
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let fa = ForwardAuth::start(&public, trusted_proxy);
    (fa, backend, port, public)
}

/// Without a proxy: the test is the trusted proxy (`127.0.0.1`), asking directly.
#[test]
fn serve_answers_forward_auth_with_the_policy_file() {
    let fa = ForwardAuth::start("http://app.test", "127.0.0.1");
    let server = &fa.server;
    let policy = fa.dir.path().join("policy.toml");
    assert!(
        server
            .stderr()
            .contains(&format!("forward auth: policy `{}`", policy.display())),
        "{}",
        server.stderr()
    );
    let base = server.base();
    let verify = |uri: &str, cookie: Option<&str>| {
        let mut h = vec![
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Host", "app.test"),
            ("X-Forwarded-Uri", uri),
        ];
        if let Some(c) = cookie {
            h.push(("Cookie", c));
        }
        get(&format!("{base}/auth/verify"), &h)
    };
    let anon = verify("/private/x?y=1", None);
    assert_eq!(anon.status, 401, "{anon:?}");
    assert_eq!(
        anon.header("x-auth-login"),
        Some("http://app.test/auth/login?came_from=http%3A//app.test/private/x%3Fy%3D1")
    );
    assert_eq!(verify("/public/", None).status, 200);
    let alice = login(&base, "alice");
    let bob = login(&base, "bob");
    let ok = verify("/private/x", Some(&alice));
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.header("x-auth-user"), Some("alice"));
    assert_eq!(ok.header("x-auth-groups"), Some("editors"));
    let no = verify("/private/x", Some(&bob));
    assert_eq!(no.status, 403, "{no:?}");
    assert!(
        no.body
            .contains("The \"edit\" permission is required for /private/x"),
        "{no:?}"
    );
    assert_eq!(verify("/docs", Some(&bob)).status, 200);
    // Debug authorization logs every decision, explained.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.stderr().contains("portcullis::forward_auth") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = server.stderr();
    assert!(log.contains("portcullis::forward_auth"), "{log}");
    assert!(log.contains("status=403"), "{log}");
}

/// nginx `auth_request` in front of a backend.
#[test]
fn nginx_auth_request_in_front_of_a_backend() {
    let Some(nginx) = proxy_binary("PORTCULLIS_TEST_NGINX", "nginx") else {
        return;
    };
    // nginx binds 127.0.0.2 as the client address of its upstream connections.
    if TcpListener::bind("127.0.0.2:0").is_err() {
        println!("skipped: 127.0.0.2 is not usable on this machine's loopback");
        return;
    }
    let (ForwardAuth { dir, server }, backend, port, public) = start_proxied("127.0.0.2");
    let pc = server.addr();

    let prefix = dir.path().join("nginx");
    for sub in ["logs", "tmp"] {
        std::fs::create_dir_all(prefix.join(sub)).unwrap();
    }
    let p = prefix.display();
    let conf = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {p}/logs/access.log;
    client_body_temp_path {p}/tmp/body;
    proxy_temp_path {p}/tmp/proxy;
    fastcgi_temp_path {p}/tmp/fastcgi;
    uwsgi_temp_path {p}/tmp/uwsgi;
    scgi_temp_path {p}/tmp/scgi;

    server {{
        listen 127.0.0.1:{port};

        # The portal (login page and API) on the same host: one session cookie.
        location /auth/ {{
            proxy_pass http://{pc};
            proxy_bind 127.0.0.2;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}

        # Asked by auth_request only; clients get 404 here.
        location = /auth/verify {{
            internal;
            proxy_pass http://{pc}/auth/verify;
            proxy_bind 127.0.0.2;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Forwarded-Method $request_method;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Uri $request_uri;
            proxy_set_header X-Forwarded-For $remote_addr;
            # Overwrite the alternative names too, so a client's copies never arrive.
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
        }}

        # Browsers: 401 becomes a redirect to the login page.
        location / {{
            auth_request /auth/verify;
            auth_request_set $auth_user $upstream_http_x_auth_user;
            auth_request_set $auth_groups $upstream_http_x_auth_groups;
            auth_request_set $auth_login $upstream_http_x_auth_login;
            error_page 401 =302 $auth_login;
            proxy_set_header X-Auth-User $auth_user;
            proxy_set_header X-Auth-Groups $auth_groups;
            proxy_pass http://{backend};
        }}

        # API clients: the 401 as it is.
        location /api/ {{
            auth_request /auth/verify;
            auth_request_set $auth_user $upstream_http_x_auth_user;
            auth_request_set $auth_groups $upstream_http_x_auth_groups;
            proxy_set_header X-Auth-User $auth_user;
            proxy_set_header X-Auth-Groups $auth_groups;
            proxy_pass http://{backend};
        }}
    }}
}}
"#
    );
    let conf_path = prefix.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let test = Command::new(&nginx)
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(&conf_path)
        .arg("-t")
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&test.stderr)
    );
    let child = Command::new(&nginx)
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let nginx_proc = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not listen: {}",
            std::fs::read_to_string(prefix.join("logs/error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let html = ("Accept", "text/html");
    let context = || {
        format!(
            "portcullis:\n{}\nnginx error log:\n{}",
            server.stderr(),
            std::fs::read_to_string(prefix.join("logs/error.log")).unwrap_or_default()
        )
    };

    // Anonymous: a browser is redirected to the login page with the original URL; an
    // API location answers 401; public paths reach the backend without identity.
    let anon = get(&format!("{public}/docs/page?x=1"), &[html]);
    assert_eq!(anon.status, 302, "{anon:?}\n{}", context());
    let login_url =
        format!("{public}/auth/login?came_from=http%3A//127.0.0.1%3A{port}/docs/page%3Fx%3D1");
    assert_eq!(anon.header("location"), Some(login_url.as_str()));
    assert!(!anon.body.contains("backend"), "{anon:?}");
    let api = get(&format!("{public}/api/things"), &[]);
    assert_eq!(api.status, 401, "{api:?}");
    let open = get(
        &format!("{public}/public/readme"),
        &[("X-Auth-User", "alice")],
    );
    assert_eq!(open.status, 200, "{open:?}\n{}", context());
    assert_eq!(
        open.body.trim(),
        "backend uri=/public/readme user=<none> groups=<none>",
        "a client's own X-Auth-User never reaches the backend"
    );
    // The whole browser round trip: the login page (the portal's, through nginx), the
    // form posted with its CSRF token, back to the original absolute URL, the backend.
    let page = get(&login_url, &[html]);
    assert_eq!(page.status, 200, "{page:?}\n{}", context());
    let marker = "name=\"csrf_token\" value=\"";
    let at = page.body.find(marker).expect("a csrf_token field") + marker.len();
    let token = page.body[at..].split('"').next().unwrap().to_owned();
    let session = page.header("set-cookie").expect("a session for the form");
    let session = session.split(';').next().unwrap().to_owned();
    let original = format!("{public}/docs/page?x=1");
    let posted = finish(
        agent()
            .post(format!("{public}/auth/login"))
            .header("Cookie", &session)
            .header("Accept", "text/html")
            .send_form([
                ("username", "alice"),
                ("password", PASSWORD),
                ("csrf_token", token.as_str()),
                ("came_from", original.as_str()),
            ]),
    );
    assert_eq!(posted.status, 303, "{posted:?}\n{}", context());
    assert_eq!(posted.header("location"), Some(original.as_str()));
    let logged_in = posted.header("set-cookie").expect("the rotated session");
    let logged_in = logged_in.split(';').next().unwrap().to_owned();
    let back = get(&original, &[html, ("Cookie", &logged_in)]);
    assert_eq!(back.status, 200, "{back:?}");
    assert_eq!(
        back.body.trim(),
        "backend uri=/docs/page?x=1 user=alice groups=editors"
    );

    // The endpoint itself is internal to nginx.
    assert_eq!(get(&format!("{public}/auth/verify"), &[]).status, 404);

    // Log in through nginx (the portal's JSON API sets the session cookie).
    let alice = login(&public, "alice");
    let bob = login(&public, "bob");

    // Permitted: the backend is reached with the user's name and groups.
    let ok = get(
        &format!("{public}/private/report?q=1"),
        &[html, ("Cookie", &alice), ("X-Auth-User", "mallory")],
    );
    assert_eq!(ok.status, 200, "{ok:?}\n{}", context());
    assert_eq!(
        ok.body.trim(),
        "backend uri=/private/report?q=1 user=alice groups=editors"
    );
    let docs = get(&format!("{public}/docs"), &[("Cookie", &bob)]);
    // An empty `X-Auth-Groups` is not sent on by nginx (empty `proxy_set_header`).
    assert_eq!(docs.body.trim(), "backend uri=/docs user=bob groups=<none>");

    // Logged in without the permission: 403, the backend is not reached.
    let no = get(
        &format!("{public}/private/report"),
        &[html, ("Cookie", &bob)],
    );
    assert_eq!(no.status, 403, "{no:?}");
    assert!(!no.body.contains("backend"), "{no:?}");
    // Encoded and dot-segment paths do not get around the tree.
    for sneaky in [
        "/%70rivate/report",
        "/public/../private/report",
        "/public/%2e%2e/private",
    ] {
        let r = get(&format!("{public}{sneaky}"), &[("Cookie", &bob)]);
        assert_eq!(r.status, 403, "{sneaky}: {r:?}");
    }

    // Spoofing: a client's X-Forwarded-* / X-Original-* headers are overwritten by nginx.
    let spoof = [
        ("Cookie", bob.as_str()),
        ("X-Forwarded-Uri", "/public/x"),
        ("X-Original-URI", "/public/x"),
        ("X-Forwarded-Host", "evil.test"),
        ("X-Forwarded-For", "127.0.0.2"),
    ];
    let r = get(&format!("{public}/private/report"), &spoof);
    assert_eq!(r.status, 403, "{r:?}\n{}", context());
    let r = get(
        &format!("{public}/private/report"),
        &[html, ("X-Forwarded-Uri", "/public/x")],
    );
    assert_eq!(r.status, 302, "{r:?}");
    // And a client that asks Portcullis directly is not a trusted proxy: 400.
    let direct = get(
        &format!("http://{pc}/auth/verify"),
        &[("X-Forwarded-Uri", "/private/report"), ("Cookie", &alice)],
    );
    assert_eq!(direct.status, 400, "{direct:?}");
    assert!(direct.header("x-auth-user").is_none(), "{direct:?}");

    // Blocking alice takes effect on her next request.
    let out = run_in(
        Some(dir.path()),
        &["user", "block", "alice", "--database", server.database()],
        "",
    );
    assert_eq!(out.code, 0, "{out:?}");
    let blocked = get(
        &format!("{public}/private/report"),
        &[html, ("Cookie", &alice)],
    );
    assert_eq!(blocked.status, 302, "{blocked:?}");
    drop(nginx_proc);
}

/// Caddy's `forward_auth` with `?redirect=1` (Debian's `caddy`; `PORTCULLIS_TEST_CADDY`,
/// installed by `.ci/setup.d/50-nginx.sh` beside nginx): Caddy hands every non-2xx answer
/// to the client as it is, and copies the identity headers of a 2xx into the request.
#[test]
fn caddy_forward_auth_redirects_browsers_and_copies_identity() {
    let Some(caddy) = proxy_binary("PORTCULLIS_TEST_CADDY", "caddy") else {
        return;
    };
    let (ForwardAuth { dir, server }, backend, port, public) = start_proxied("127.0.0.1");
    let pc = server.addr();
    let caddyfile = dir.path().join("Caddyfile");
    std::fs::write(
        &caddyfile,
        format!(
            "{{\n\tadmin off\n\tauto_https off\n}}\n\
             http://127.0.0.1:{port} {{\n\
             \thandle /auth/verify {{\n\t\trespond 404\n\t}}\n\
             \thandle /auth/* {{\n\t\treverse_proxy {pc}\n\t}}\n\
             \thandle {{\n\
             \t\tforward_auth {pc} {{\n\
             \t\t\turi /auth/verify?redirect=1\n\
             \t\t\tcopy_headers X-Auth-User X-Auth-Groups X-Auth-User-Id X-Auth-Email\n\
             \t\t}}\n\
             \t\treverse_proxy {backend}\n\
             \t}}\n}}\n"
        ),
    )
    .unwrap();
    let home = dir.path().join("caddy-home");
    std::fs::create_dir_all(&home).unwrap();
    let log = std::fs::File::create(dir.path().join("caddy.log")).unwrap();
    let child = Command::new(&caddy)
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&caddyfile)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut caddy_proc = KillOnDrop(child);
    let context = || {
        format!(
            "portcullis:\n{}\ncaddy:\n{}",
            server.stderr(),
            std::fs::read_to_string(dir.path().join("caddy.log")).unwrap_or_default()
        )
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = caddy_proc.0.try_wait().unwrap();
        assert!(
            exited.is_none() && Instant::now() < deadline,
            "caddy did not listen ({exited:?}): {}",
            context()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let html = ("Accept", "text/html");
    // Anonymous: browsers get the 302 to the login page, API clients the 401.
    let anon = get(&format!("{public}/docs?x=1"), &[html]);
    assert_eq!(anon.status, 302, "{anon:?}\n{}", context());
    assert_eq!(
        anon.header("location"),
        Some(
            format!("{public}/auth/login?came_from=http%3A//127.0.0.1%3A{port}/docs%3Fx%3D1")
                .as_str()
        )
    );
    let api = get(&format!("{public}/docs"), &[("Accept", "application/json")]);
    assert_eq!(api.status, 401, "{api:?}");
    assert!(api.body.contains("Log in"), "{api:?}");
    // Public: a client's own identity headers are overwritten (empty).
    let open = get(
        &format!("{public}/public/x"),
        &[("X-Auth-User", "mallory"), ("X-Auth-Groups", "admin")],
    );
    assert_eq!(
        open.body.trim(),
        "backend uri=/public/x user= groups=",
        "{}",
        context()
    );
    // Logged in (through Caddy): the user's identity, whatever the client claims.
    let alice = login(&public, "alice");
    let bob = login(&public, "bob");
    let ok = get(
        &format!("{public}/private/r"),
        &[("Cookie", &alice), ("X-Auth-User", "mallory")],
    );
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(
        ok.body.trim(),
        "backend uri=/private/r user=alice groups=editors"
    );
    let no = get(&format!("{public}/private/r"), &[html, ("Cookie", &bob)]);
    assert_eq!(no.status, 403, "{no:?}");
    assert!(no.body.contains("403 Forbidden"), "{no:?}");
    // The endpoint is not reachable from outside.
    assert_eq!(get(&format!("{public}/auth/verify"), &[]).status, 404);
    drop(caddy_proc);
}
