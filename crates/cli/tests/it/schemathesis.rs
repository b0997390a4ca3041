//! Property-based tests of the served API from its own OpenAPI document: schemathesis
//! (a real, independent client) generates valid and invalid requests for every
//! operation of `/auth/api/openapi.json` and checks the answers of a real `portcullis
//! serve`: never a 5xx, only documented status codes, content types and headers, answers
//! matching their schemas, invalid data rejected, authentication enforced where declared.
//!
//! Needs `PORTCULLIS_TEST_SCHEMATHESIS` (the `st` binary; `.ci/setup.d/70-schemathesis.sh`
//! installs it); skipped with a printed reason otherwise.
//!
//! One check is left out: `positive_data_acceptance` expects every schema-valid request to
//! succeed, which cannot hold for random one-time tokens and passwords (a random `token`
//! is rightly answered 400 "invalid or expired link").

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::util::run_in;

/// A `portcullis serve` (portal mode) in a temporary directory, killed on drop.
struct Portal {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Portal {
    fn start() -> Portal {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        std::fs::write(
            dir.path().join("portal.toml"),
            format!(
                "public_url = \"{base}\"\ninsecure_cookies = true\nsecret = \"schemathesis-test-secret-0123456789abcdef\"\n"
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args([
                "serve",
                "--config",
                "portal.toml",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database",
                "sqlite://portal.sqlite",
                "--mail-dir",
                "mail",
            ])
            .current_dir(dir.path())
            .env_remove("PORTCULLIS_DATABASE_URL")
            .env_remove("PORTCULLIS_SECRET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn portcullis serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("listening on http://") {
                    let _ = tx.send(Ok(()));
                }
                seen.push(line);
            }
            let _ = tx.send(Err(seen.join("\n")));
        });
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok(())) => {}
            other => {
                let _ = child.kill();
                panic!("the server did not start: {other:?}");
            }
        }
        Portal { child, base, dir }
    }

    /// Creates the first administrator and logs in: the session cookie (`name=value`).
    fn admin_cookie(&self) -> String {
        let r = run_in(
            Some(self.dir.path()),
            &["--database", "sqlite://portal.sqlite", "init"],
            "",
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let password = r.stdout.trim().to_owned();
        let resp = ureq::post(&format!("{}/auth/api/login", self.base))
            .header("Content-Type", "application/json")
            .send(
                serde_json::json!({"username": "admin", "password": password})
                    .to_string()
                    .as_bytes(),
            )
            .expect("login");
        let set_cookie = resp
            .headers()
            .get("set-cookie")
            .expect("a session cookie")
            .to_str()
            .unwrap();
        set_cookie.split(';').next().unwrap().to_owned()
    }
}

/// Runs schemathesis; with `session`, as the holder of that session cookie value (given
/// to schemathesis as the document's `session` security scheme, so it also checks that
/// leaving the cookie out is refused).
fn schemathesis(st: &str, portal: &Portal, session: Option<&str>, extra: &[&str]) {
    let schema = format!("{}/auth/api/openapi.json", portal.base);
    let config = portal.dir.path().join("schemathesis.toml");
    let auth = match session {
        Some(value) => format!("[auth.openapi.session]\napi_key = \"{value}\"\n"),
        None => String::new(),
    };
    std::fs::write(&config, auth).unwrap();
    let mut cmd = Command::new(st);
    cmd.arg("--config-file").arg(&config);
    cmd.args([
        "run",
        &schema,
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        "40",
        "--seed",
        "20261124",
        "--workers",
        "2",
        "--no-color",
    ])
    .args(extra)
    .env("SCHEMATHESIS_HOOKS", "")
    .current_dir(portal.dir.path());
    let out = cmd.output().expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures ({:?}):\n{stdout}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    if session.is_some() {
        assert!(
            !stdout.contains("Authentication failed"),
            "the session was not accepted:\n{stdout}"
        );
    }
    // It really tested something.
    assert!(
        stdout.contains("generated"),
        "no test cases reported:\n{stdout}"
    );
}

#[test]
fn the_api_conforms_to_its_document_anonymous_and_as_admin() {
    let Ok(st) = std::env::var("PORTCULLIS_TEST_SCHEMATHESIS") else {
        println!(
            "skipped: PORTCULLIS_TEST_SCHEMATHESIS is not set (see .ci/setup.d/70-schemathesis.sh)"
        );
        return;
    };
    let portal = Portal::start();
    // Anonymous: every operation.
    schemathesis(&st, &portal, None, &[]);
    // Logged in as an administrator: the read-only operations (writes with random data
    // would end the session or lock the account under test).
    let cookie = portal.admin_cookie();
    let value = cookie.split_once('=').map(|(_, v)| v).unwrap_or_default();
    schemathesis(&st, &portal, Some(value), &["--include-method", "GET"]);
}
