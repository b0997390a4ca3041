//! Real-browser tests: headless Chromium (Debian's `chromium`) driven through ChromeDriver
//! (Debian's `chromium-driver`) with the WebDriver client `fantoccini`, against the built
//! `portcullis serve` on a free loopback port.
//!
//! * `PORTCULLIS_TEST_CHROMEDRIVER` names the chromedriver binary (`.ci/setup.d/60-chromium.sh`
//!   installs both packages and exports it); unset, every test prints `skipped: ...` and
//!   passes. `PORTCULLIS_TEST_CHROMIUM` (default `/usr/bin/chromium`) names the browser.
//! * Each test starts its own chromedriver (port 0, read back from its banner), one Chromium
//!   session with a fresh temporary profile, and its own server in a temporary directory.
//!   The tests run one at a time (a process-wide lock): CI has two cores.
//! * A PNG screenshot is saved at every step, and one more when a step fails (plus the page
//!   source), into `$PORTCULLIS_ARTIFACTS_DIR/<test>/` or else
//!   `target/browser-artifacts/<test>/`, as `NN-step.png` (the folder is emptied first).
//! * Assertions are on what a user sees: the one `<h1>`, `role="alert"` errors,
//!   `role="status"` notices, the address bar, field values.

mod demo;
mod mail;
mod portal;

use std::future::Future;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

/// Browser tests run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The chromedriver binary, or `None` (after printing why) when the tests are to be skipped.
fn chromedriver_path() -> Option<PathBuf> {
    match std::env::var_os("PORTCULLIS_TEST_CHROMEDRIVER") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            eprintln!(
                "skipped: PORTCULLIS_TEST_CHROMEDRIVER is unset (source .ci/setup.d/60-chromium.sh \
                 to install Debian's chromium and chromium-driver and set it)"
            );
            None
        }
    }
}

/// A running chromedriver; shut down (with its browsers) on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(path: &Path) -> Driver {
        let mut child = Command::new(path)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{}`: {e}", path.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let port = rest.trim_end_matches('.').trim().parse::<u16>();
                    let _ = tx.send(port);
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(port)) => Driver { child, port },
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromedriver did not report its port: {other:?}");
            }
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // `/shutdown` ends the sessions (and their Chromium processes) cleanly; a bare kill
        // would orphan the browsers.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .proxy(None)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let _ = agent.get(format!("{}/shutdown", self.url())).call();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a test's screenshots go.
fn artifacts_dir(test: &str) -> PathBuf {
    let base = match std::env::var_os("PORTCULLIS_ARTIFACTS_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            // The test binary is target/<profile>/deps/it-<hash>.
            let exe = std::env::current_exe().unwrap();
            let target = exe
                .ancestors()
                .nth(3)
                .map(Path::to_path_buf)
                .unwrap_or_else(std::env::temp_dir);
            target.join("browser-artifacts")
        }
    };
    let dir = base.join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Browser settings of one test.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Js(pub(crate) bool);

/// The capabilities of a headless Chromium session with a fresh profile in `profile`.
fn capabilities(profile: &Path, js: Js) -> serde_json::Map<String, serde_json::Value> {
    let chromium = std::env::var("PORTCULLIS_TEST_CHROMIUM")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/usr/bin/chromium".to_owned());
    let mut options = serde_json::json!({
        "binary": chromium,
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--window-size=1024,900",
            format!("--user-data-dir={}", profile.display()),
        ],
    });
    if !js.0 {
        options["prefs"] = serde_json::json!({
            "profile.managed_default_content_settings.javascript": 2,
        });
    }
    let caps = serde_json::json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "goog:chromeOptions": options,
    });
    match caps {
        serde_json::Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// Starts a server with `start`, then runs `scenario` against it in a fresh headless
/// Chromium, saving screenshots under the test's artifacts folder (and, when the scenario
/// fails, a last screenshot, the page source and the server's standard error); skips
/// (printing why) without `PORTCULLIS_TEST_CHROMEDRIVER`.
pub(crate) fn run<S, F, Fut>(test: &str, js: Js, start: S, scenario: F)
where
    S: FnOnce() -> Server,
    F: FnOnce(Browser, Arc<Server>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(driver_path) = chromedriver_path() else {
        return;
    };
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    let dir = artifacts_dir(test);
    let server = Arc::new(start());
    let driver = Driver::start(&driver_path);
    let profile = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities(profile.path(), js))
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| panic!("cannot start a Chromium session: {e}"));
        let browser = Browser {
            client: client.clone(),
            dir: Arc::new(dir.clone()),
            step: Arc::new(AtomicU32::new(0)),
        };
        assert_eq!(
            browser.scripts_run().await,
            js.0,
            "JavaScript should be {}",
            if js.0 { "on" } else { "off" }
        );
        let after = browser.clone();
        // In a task of its own, so that a failed assertion still leaves the session (and
        // the server) to take the failure screenshot with.
        let outcome = tokio::spawn(scenario(browser, Arc::clone(&server))).await;
        if let Err(e) = outcome {
            after.save_failure().await;
            let _ = client.close().await;
            eprintln!(
                "--- portcullis serve, standard error:\n{}\n--- screenshots: {}",
                server.stderr(),
                dir.display()
            );
            match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("the scenario did not finish: {e}"),
            }
        }
        client.close().await.unwrap();
    });
    drop(driver);
    eprintln!(
        "{test}: passed in {:.1?}; screenshots in {}",
        started.elapsed(),
        dir.display()
    );
}

/// A WebDriver session with helpers that read the page as a user would.
#[derive(Clone)]
pub(crate) struct Browser {
    client: Client,
    dir: Arc<PathBuf>,
    step: Arc<AtomicU32>,
}

/// A CSS locator.
fn css(selector: &str) -> Locator<'_> {
    Locator::Css(selector)
}

impl Browser {
    /// Opens `url`.
    pub(crate) async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open `{url}`: {e}"));
    }

    /// Saves a screenshot as `NN-name.png`.
    pub(crate) async fn shot(&self, name: &str) {
        let n = self.step.fetch_add(1, Ordering::Relaxed) + 1;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.dir.join(format!("{n:02}-{name}.png")), png).unwrap();
    }

    /// Keeps a copy of `mail` beside the screenshots, as `NN-name.eml`.
    pub(crate) fn keep_mail(&self, name: &str, mail: &mail::Mail) {
        let n = self.step.fetch_add(1, Ordering::Relaxed) + 1;
        std::fs::copy(&mail.file, self.dir.join(format!("{n:02}-{name}.eml"))).unwrap();
    }

    /// After a failure: a screenshot and the page source, best effort.
    async fn save_failure(&self) {
        let n = self.step.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.dir.join(format!("{n:02}-FAILED.png")), png);
        }
        if let Ok(html) = self.client.source().await {
            let _ = std::fs::write(self.dir.join(format!("{n:02}-FAILED.html")), html);
        }
        if let Ok(url) = self.client.current_url().await {
            eprintln!("the browser was at {url}");
        }
    }

    /// The address bar.
    pub(crate) async fn url(&self) -> url_parts::Url {
        url_parts::Url(self.client.current_url().await.unwrap().to_string())
    }

    /// The page's one `<h1>` (asserting there is exactly one).
    pub(crate) async fn h1(&self) -> String {
        let all = self.client.find_all(css("h1")).await.unwrap();
        assert_eq!(
            all.len(),
            1,
            "expected one <h1> at {}: {}",
            self.url().await.0,
            self.body_text().await
        );
        all[0].text().await.unwrap().trim().to_owned()
    }

    /// Everything the page shows, as text.
    pub(crate) async fn body_text(&self) -> String {
        match self.client.find(css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The text of the elements matching `selector`, joined by newlines (empty when none).
    async fn texts(&self, selector: &str) -> String {
        let mut out = Vec::new();
        for e in self.client.find_all(css(selector)).await.unwrap() {
            out.push(e.text().await.unwrap().trim().to_owned());
        }
        out.join("\n")
    }

    /// The text of the `role="alert"` elements (errors).
    pub(crate) async fn alerts(&self) -> String {
        self.texts("[role=alert]").await
    }

    /// The text of the `role="status"` elements (notices).
    pub(crate) async fn notices(&self) -> String {
        self.texts("[role=status]").await
    }

    /// The input `#id`, asserting it has a `<label for>`.
    pub(crate) async fn field(&self, id: &str) -> Element {
        let input = self
            .client
            .find(css(&format!("#{id}")))
            .await
            .unwrap_or_else(|e| panic!("no field #{id}: {e}"));
        let labels = self
            .client
            .find_all(css(&format!("label[for='{id}']")))
            .await
            .unwrap();
        assert!(!labels.is_empty(), "field #{id} has no <label for>");
        input
    }

    /// Types `value` into the field `#id` (cleared first).
    pub(crate) async fn fill(&self, id: &str, value: &str) {
        let input = self.field(id).await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    /// The current value of the field `#id`.
    pub(crate) async fn value(&self, id: &str) -> String {
        self.field(id)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Clicks the submit button of the form that holds the field `#id`.
    pub(crate) async fn submit_form_of(&self, id: &str) {
        let xpath = format!("//*[@id='{id}']/ancestor::form//button[@type='submit']");
        let button = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no submit button in the form of #{id}: {e}"));
        self.click_and_wait(&button).await;
    }

    /// Clicks the `<button type="submit">` whose text is `label` (or the only one when
    /// `label` is empty).
    pub(crate) async fn press(&self, label: &str) {
        let buttons = self
            .client
            .find_all(css("button[type=submit]"))
            .await
            .unwrap();
        let mut chosen = None;
        for b in buttons {
            let text = b.text().await.unwrap();
            if label.is_empty() || text.trim().eq_ignore_ascii_case(label) {
                assert!(chosen.is_none(), "more than one button `{label}`");
                chosen = Some(b);
            }
        }
        let button = chosen.unwrap_or_else(|| panic!("no submit button `{label}`"));
        self.click_and_wait(&button).await;
    }

    /// Follows the link whose `href` is `href` (a path on this site, as written in the page).
    pub(crate) async fn follow(&self, href: &str) {
        let at = self.url().await;
        let link = self
            .client
            .find(css(&format!("a[href='{href}']")))
            .await
            .unwrap_or_else(|e| panic!("no link to `{href}` at {}: {e}", at.0));
        self.click_and_wait(&link).await;
    }

    /// Follows the link in the page's content (`<main>`) whose text is `text`.
    pub(crate) async fn follow_text(&self, text: &str) {
        let xpath = format!("//main//a[normalize-space()='{text}']");
        let at = self.url().await;
        let link = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no link `{text}` at {}: {e}", at.0));
        self.click_and_wait(&link).await;
    }

    /// Clicks `element` and waits until the page it was on has been replaced by the next
    /// one (a form post's answer or redirect target, a followed link): WebDriver's click
    /// may return before the navigation it starts has finished.
    pub(crate) async fn click_and_wait(&self, element: &Element) {
        let old = self.client.find(css("html")).await.unwrap();
        element.click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        // The old document's root goes stale once the new document is in.
        while old.tag_name().await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "the click did not lead to a new page within 15 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Then the new document must have a body (its load finished).
        while self.client.find(css("body")).await.is_err() {
            assert!(Instant::now() < deadline, "the new page did not load");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The first link in the page's content (`<main>`, not the site's navigation) whose
    /// `href` contains `part`.
    pub(crate) async fn link_containing(&self, part: &str) -> Option<Element> {
        self.client
            .find_all(css(&format!("main a[href*='{part}']")))
            .await
            .unwrap()
            .into_iter()
            .next()
    }

    /// Whether this browser runs scripts at all: opens a `data:` page (so that no
    /// server's Content-Security-Policy is involved) whose inline script sets the title.
    /// With JavaScript switched off in the profile, the title stays.
    pub(crate) async fn scripts_run(&self) -> bool {
        self.goto("data:text/html,<title>off</title><script>document.title='on'</script>")
            .await;
        self.client.title().await.unwrap() == "on"
    }
}

/// Minimal URL reading for assertions.
pub(crate) mod url_parts {
    /// An absolute URL as the browser shows it.
    #[derive(Debug, Clone)]
    pub(crate) struct Url(pub(crate) String);

    impl Url {
        /// The path (no query).
        pub(crate) fn path(&self) -> &str {
            let after = self.0.find("://").map_or(0, |i| i + 3);
            let rest = &self.0[after..];
            let rest = &rest[rest.find('/').unwrap_or(rest.len())..];
            let end = rest.find(['?', '#']).unwrap_or(rest.len());
            &rest[..end]
        }

        /// The decoded value of query parameter `name`.
        pub(crate) fn query(&self, name: &str) -> Option<String> {
            let q = self.0.split_once('?')?.1;
            let q = q.split('#').next().unwrap_or_default();
            q.split('&').find_map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (k == name).then(|| percent_decode(v))
            })
        }
    }

    fn percent_decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The servers these tests drive: [`ServeProcess`], each in its own temporary directory.
pub(crate) use crate::util::ServeProcess as Server;

/// The master secret of every browser test's server.
const SECRET: &str = "browser-test master secret, 32+ bytes long";

/// `portcullis serve --demo` (seed 000's users) on a free port.
pub(crate) fn demo_server() -> Server {
    Server::demo().env("PORTCULLIS_SECRET", SECRET).start()
}

/// `portcullis serve` with the portal: a `--config` TOML naming its own port as
/// `public_url`, and the folder mailer in `<dir>/mail`.
pub(crate) fn portal_server() -> Server {
    Server::portal(&format!("secret = \"{SECRET}\"\n")).start()
}

/// The development mailer's folder of `server` (a [`portal_server`]).
pub(crate) fn mailbox(server: &Server) -> mail::Mailbox {
    mail::Mailbox::new(server.dir().join("mail"), &server.base())
}
