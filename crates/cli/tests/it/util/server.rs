//! One harness for every test that needs a running `portcullis serve`.
//!
//! * [`ServeProcess`] starts the built binary as
//!   `portcullis --database DB serve [--demo] --bind ADDR [--config C --mail-dir M] ARGS...`,
//!   drains its standard error in a thread for its whole life (so it never blocks on a full
//!   pipe, and a test can read the log at any time with [`ServeProcess::stderr`]), waits for
//!   its `listening on http://ADDR` line (120 s, or until it exits: then the test panics with
//!   what it printed), and kills and reaps it on drop.
//! * The environment is clean: every `PORTCULLIS_*` variable of the test's own environment is
//!   removed (`PORTCULLIS_DATABASE_URL`, `PORTCULLIS_SECRET`, the `PORTCULLIS_TEST_*` ones...),
//!   and only what the builder sets with [`ServeBuilder::env`] is passed on.
//! * [`ServeProcess::demo`] and [`ServeProcess::portal`] own a fresh temporary directory (the
//!   SQLite store, the configuration, the mail folder), removed after the server is dropped;
//!   [`ServeProcess::demo_on`] and [`ServeProcess::portal_on`] run on a store and a folder the
//!   test owns (a restart on the same store; users created before the start).
//! * [`free_port`], [`write_portal_config`] and [`api_login`] are the other steps the tests
//!   share: a port to name in `public_url` before the server binds it, the portal's TOML, and a
//!   session from `POST /auth/api/login`.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use super::Run;

/// How long a server may take to print its `listening on` line (a cold, shared CI machine).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A free loopback port: bound, then released for a server or proxy to take a moment later.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes `<dir>/portal.toml`: `public_url = "<public_url>"`, then `extra` (whole TOML
/// lines, each ending in `\n`). Returns its path.
pub(crate) fn write_portal_config(dir: &Path, public_url: &str, extra: &str) -> PathBuf {
    let path = dir.join("portal.toml");
    std::fs::write(&path, format!("public_url = \"{public_url}\"\n{extra}")).unwrap();
    path
}

/// An HTTP client for tests: statuses are answers (not errors), no redirect is followed, no
/// proxy from the environment, a minute at most.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Logs in through the portal's JSON API (`POST <base>/auth/api/login`), asserts `200`, and
/// returns the session cookie as `name=value` (for a `Cookie` header).
pub(crate) fn api_login(base: &str, username: &str, password: &str) -> String {
    let body = serde_json::json!({"username": username, "password": password}).to_string();
    let mut resp = agent()
        .post(format!("{base}/auth/api/login"))
        .header("Content-Type", "application/json")
        .send(body.as_str())
        .expect("HTTP request");
    let status = resp.status().as_u16();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(status, 200, "login as `{username}`: {cookie:?} {text}");
    let cookie = cookie.expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

/// A child process killed and reaped on drop (a server, a proxy).
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `portcullis serve`; killed on drop (then its temporary directory, if it owns
/// one, is removed).
pub(crate) struct ServeProcess {
    // Declared first: dropped (killed) before `_owned` is removed.
    _child: KillOnDrop,
    addr: String,
    database: String,
    stderr: Arc<Mutex<Vec<String>>>,
    dir: Option<PathBuf>,
    _owned: Option<tempfile::TempDir>,
}

/// What to start: made by [`ServeProcess::demo`] and its siblings, adjusted with
/// [`ServeBuilder::arg`], [`ServeBuilder::env`], ..., started with [`ServeBuilder::start`].
#[must_use = "a builder does nothing until `start`"]
pub(crate) struct ServeBuilder {
    database: String,
    mode: Vec<String>,
    bind: String,
    args: Vec<std::ffi::OsString>,
    env: Vec<(String, String)>,
    dir: Option<PathBuf>,
    owned: Option<tempfile::TempDir>,
}

impl ServeProcess {
    /// `serve --demo` (the demo users) on `<fresh temporary dir>/demo.sqlite`, on
    /// `127.0.0.1:0`, run in that directory.
    pub(crate) fn demo() -> ServeBuilder {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", dir.path().join("demo.sqlite").display());
        let path = dir.path().to_owned();
        ServeProcess::demo_on(&database).in_dir(&path).owning(dir)
    }

    /// `serve --demo` on `database` (which the test owns), on `127.0.0.1:0`.
    pub(crate) fn demo_on(database: &str) -> ServeBuilder {
        ServeBuilder::new(database, &["--demo"])
    }

    /// The portal in a fresh temporary directory that holds its store (`portal.sqlite`), its
    /// configuration ([`write_portal_config`]: `public_url` names the server's own address,
    /// a free port, then `extra_config`) and its mail folder (`mail/`); run in that directory.
    pub(crate) fn portal(extra_config: &str) -> ServeBuilder {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let port = free_port();
        let config = write_portal_config(&path, &format!("http://127.0.0.1:{port}"), extra_config);
        let database = format!("sqlite://{}", path.join("portal.sqlite").display());
        ServeProcess::portal_on(&database, &config, &path.join("mail"))
            .bind(&format!("127.0.0.1:{port}"))
            .in_dir(&path)
            .owning(dir)
    }

    /// The portal on `database` with `--config config --mail-dir mail_dir` (all the test's
    /// own), on `127.0.0.1:0`.
    pub(crate) fn portal_on(database: &str, config: &Path, mail_dir: &Path) -> ServeBuilder {
        ServeBuilder::new(database, &[])
            .arg("--config")
            .arg(config)
            .arg("--mail-dir")
            .arg(mail_dir)
    }

    /// `http://ADDR`, as the server announced it.
    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ADDR` (`127.0.0.1:PORT`) alone.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// `base()` + `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The `--database` URL.
    pub(crate) fn database(&self) -> &str {
        &self.database
    }

    /// The directory it runs in (its own temporary one for [`ServeProcess::demo`] and
    /// [`ServeProcess::portal`]); panics for a server started without one.
    pub(crate) fn dir(&self) -> &Path {
        self.dir
            .as_deref()
            .expect("a server started in a directory")
    }

    /// Everything the server wrote to standard error so far, one line a line.
    pub(crate) fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .join("\n")
    }

    /// `portcullis ARGS --database <this server's database>` (a CLI run beside the server).
    pub(crate) fn cli(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database", &self.database]);
        super::run(&all)
    }
}

impl ServeBuilder {
    fn new(database: &str, mode: &[&str]) -> ServeBuilder {
        ServeBuilder {
            database: database.to_owned(),
            mode: mode.iter().map(|s| (*s).to_owned()).collect(),
            bind: "127.0.0.1:0".to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            dir: None,
            owned: None,
        }
    }

    /// `--bind addr` instead of `127.0.0.1:0`.
    pub(crate) fn bind(mut self, addr: &str) -> ServeBuilder {
        addr.clone_into(&mut self.bind);
        self
    }

    /// One more argument after the others (`--policy`, ...).
    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> ServeBuilder {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Sets `key=value` in the server's (otherwise `PORTCULLIS_*`-free) environment.
    pub(crate) fn env(mut self, key: &str, value: &str) -> ServeBuilder {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Runs the server in `dir` (relative paths in its arguments and configuration).
    pub(crate) fn in_dir(mut self, dir: &Path) -> ServeBuilder {
        self.dir = Some(dir.to_owned());
        self
    }

    /// Keeps `dir` until the server is dropped, then removes it.
    fn owning(mut self, dir: tempfile::TempDir) -> ServeBuilder {
        self.owned = Some(dir);
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        cmd.arg("--database")
            .arg(&self.database)
            .arg("serve")
            .args(&self.mode)
            .args(["--bind", &self.bind])
            .args(&self.args)
            .stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PORTCULLIS_") {
                cmd.env_remove(key);
            }
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// Runs it to its end instead (for a start that must fail): its exit and output.
    pub(crate) fn run(self) -> Run {
        let out = self.command().output().expect("run portcullis serve");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Starts it and waits for its `listening on http://ADDR` line; panics with its standard
    /// error when it exits or has not started within two minutes.
    pub(crate) fn start(self) -> ServeProcess {
        let mut child = self
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn portcullis serve");
        let stderr = child.stderr.take().unwrap();
        let child = KillOnDrop(child);
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let keep = Arc::clone(&lines);
        std::thread::spawn(move || {
            // Drains standard error for the server's whole life; ends (dropping `tx`, which
            // wakes the wait below) when the server exits.
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.to_owned());
                }
                keep.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
            }
        });
        let Ok(addr) = rx.recv_timeout(START_TIMEOUT) else {
            drop(child);
            panic!(
                "the server did not start; stderr:\n{}",
                lines
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .join("\n")
            );
        };
        ServeProcess {
            _child: child,
            addr,
            database: self.database,
            stderr: lines,
            dir: self.dir,
            _owned: self.owned,
        }
    }
}
