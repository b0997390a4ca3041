//! The mail module against a real SMTP server (aiosmtpd, started from `smtp_sink.py`
//! with the Python of `PORTCULLIS_TEST_SMTP_PYTHON`, see `.ci/setup.d/40-smtp.sh`), and
//! the folder mailer against the real file system.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portcullis_portal::mail::{
    FolderMailer, MailTemplates, SendError, SmtpConfig, SmtpFailure, SmtpMailer, SmtpSecurity,
    TemplateMail,
};
use portcullis_portal::mailer::{MailError, Mailer, OutgoingMail};
use portcullis_store::ManualClock;
use serde_json::Value;

const VERIFY_LINK: &str = "https://app.example/auth/api/verify_email?token=v3r1fy&next=%2Fhome";
const RESET_LINK: &str = "https://app.example/reset?token=r3s3t";

/// A running aiosmtpd; killed on drop.
struct Sink {
    child: Child,
    port: u16,
    cert: Option<PathBuf>,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

fn python() -> Option<String> {
    match std::env::var("PORTCULLIS_TEST_SMTP_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            println!(
                "skipped: PORTCULLIS_TEST_SMTP_PYTHON is not set (source .ci/setup.d/40-smtp.sh)"
            );
            None
        }
    }
}

impl Sink {
    fn start(python: &str, args: &[&str]) -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("received.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg("--out")
            .arg(&out)
            .arg("--cert-dir")
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("smtp_sink.py did not start ({e}): {line:?}"));
        Sink {
            child,
            port: u16::try_from(ready["port"].as_u64().unwrap()).unwrap(),
            cert: ready["cert"].as_str().map(PathBuf::from),
            out,
            _dir: dir,
        }
    }

    fn config(&self, security: SmtpSecurity) -> SmtpConfig {
        let mut c = SmtpConfig::new("127.0.0.1", "Portcullis <noreply@app.example>");
        c.port = Some(self.port);
        c.security = security;
        c.timeout_secs = 10;
        c
    }

    /// Waits until `n` messages were received and returns them.
    fn received(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&self.out).unwrap_or_default();
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            if lines.len() >= n || Instant::now() > deadline {
                assert_eq!(lines.len(), n, "messages received by the sink");
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn part<'a>(record: &'a Value, ty: &str) -> &'a str {
    record["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == ty)
        .unwrap_or_else(|| panic!("no {ty} part in {record}"))["body"]
        .as_str()
        .unwrap()
}

fn verify_mail(to: &str) -> OutgoingMail {
    MailTemplates::builtin("Example App")
        .render(
            to,
            &TemplateMail::VerifyEmail {
                link: VERIFY_LINK,
                expires_minutes: 1440,
            },
        )
        .unwrap()
}

#[tokio::test]
async fn smtp_delivers_templated_verify_and_reset_mails() {
    let Some(py) = python() else { return };
    let sink = Sink::start(&py, &[]);
    let mailer = SmtpMailer::new(sink.config(SmtpSecurity::None)).unwrap();
    let templates = MailTemplates::builtin("Example App");

    mailer.send(verify_mail("ann@example.org")).await.unwrap();
    let reset = templates
        .render(
            "bob@example.org",
            &TemplateMail::ResetPassword {
                link: RESET_LINK,
                expires_minutes: 60,
            },
        )
        .unwrap();
    mailer.send(reset).await.unwrap();

    let got = sink.received(2);
    let verify = &got[0];
    assert_eq!(verify["mail_from"], "noreply@app.example");
    assert_eq!(verify["rcpt_tos"], serde_json::json!(["ann@example.org"]));
    assert_eq!(verify["to"], "ann@example.org");
    assert_eq!(verify["from"], "Portcullis <noreply@app.example>");
    assert_eq!(
        verify["subject"],
        "Confirm your e-mail address for Example App"
    );
    assert_eq!(verify["content_type"], "multipart/alternative");
    assert_eq!(verify["tls"], false);
    let text = part(verify, "text/plain");
    assert!(text.contains(VERIFY_LINK), "{text}");
    assert!(text.contains("24 hours"), "{text}");
    let html = part(verify, "text/html");
    let href = format!("href=\"{}\"", VERIFY_LINK.replace('&', "&amp;"));
    assert!(html.contains(&href), "{html}");

    let reset = &got[1];
    assert_eq!(reset["rcpt_tos"], serde_json::json!(["bob@example.org"]));
    assert_eq!(reset["subject"], "Reset your Example App password");
    assert!(part(reset, "text/plain").contains(RESET_LINK));
    assert!(part(reset, "text/html").contains(RESET_LINK));
    assert!(part(reset, "text/plain").contains("1 hour"));
}

#[tokio::test]
async fn smtp_plain_text_only_mail_is_a_single_part() {
    let Some(py) = python() else { return };
    let sink = Sink::start(&py, &[]);
    let mailer = SmtpMailer::new(sink.config(SmtpSecurity::None)).unwrap();
    mailer
        .send(OutgoingMail {
            to: "Ann Example <ann@example.org>".to_owned(),
            subject: "Plain".to_owned(),
            text: "just text, with a non-ASCII name: Zoë".to_owned(),
            html: None,
        })
        .await
        .unwrap();
    let got = sink.received(1);
    assert_eq!(got[0]["rcpt_tos"], serde_json::json!(["ann@example.org"]));
    assert_eq!(got[0]["content_type"], "text/plain");
    assert_eq!(
        part(&got[0], "text/plain").trim_end(),
        "just text, with a non-ASCII name: Zoë"
    );
}

#[tokio::test]
async fn smtp_starttls_with_a_trusted_certificate_and_auth() {
    let Some(py) = python() else { return };
    let sink = Sink::start(&py, &["--security", "starttls", "--auth", "mailer:s3cret"]);
    let mut config = sink.config(SmtpSecurity::Starttls);
    config.extra_root_certificates = vec![sink.cert.clone().unwrap()];
    config.username = Some("mailer".to_owned());
    config.password = Some("s3cret".to_owned());
    let mailer = SmtpMailer::new(config).unwrap();
    mailer.send(verify_mail("ann@example.org")).await.unwrap();
    let got = sink.received(1);
    assert_eq!(got[0]["tls"], true);
    assert_eq!(got[0]["auth"], true);
    assert!(part(&got[0], "text/plain").contains(VERIFY_LINK));
}

#[tokio::test]
async fn smtp_implicit_tls() {
    let Some(py) = python() else { return };
    let sink = Sink::start(&py, &["--security", "tls"]);
    let mut config = sink.config(SmtpSecurity::Tls);
    config.extra_root_certificates = vec![sink.cert.clone().unwrap()];
    let mailer = SmtpMailer::new(config).unwrap();
    mailer.send(verify_mail("ann@example.org")).await.unwrap();
    let got = sink.received(1);
    assert_eq!(got[0]["tls"], true);
    assert_eq!(got[0]["rcpt_tos"], serde_json::json!(["ann@example.org"]));
}

#[tokio::test]
async fn smtp_untrusted_certificate_is_a_tls_error() {
    let Some(py) = python() else { return };
    let sink = Sink::start(&py, &["--security", "starttls"]);
    // The sink's self-signed certificate is not among the web roots.
    let mailer = SmtpMailer::new(sink.config(SmtpSecurity::Starttls)).unwrap();
    let err = mailer
        .send_classified(verify_mail("ann@example.org"))
        .await
        .unwrap_err();
    match &err {
        SendError::Smtp(SmtpFailure::Tls { server, reason }) => {
            assert_eq!(server, &format!("127.0.0.1:{}", sink.port));
            assert!(reason.to_lowercase().contains("certificate"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let msg = MailError::from(err).to_string();
    assert!(
        msg.starts_with("mail transport failed: tls with smtp server `127.0.0.1:"),
        "{msg}"
    );
    sink.received(0);
}

#[tokio::test]
async fn smtp_starttls_is_required_not_optional() {
    let Some(py) = python() else { return };
    // A server without STARTTLS: the mailer refuses to go on in plain text.
    let sink = Sink::start(&py, &[]);
    let mailer = SmtpMailer::new(sink.config(SmtpSecurity::Starttls)).unwrap();
    let err = mailer
        .send_classified(verify_mail("ann@example.org"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Smtp(SmtpFailure::Tls { reason, .. }) if reason.contains("STARTTLS")),
        "{err:?}"
    );
    sink.received(0);
}

#[tokio::test]
async fn smtp_auth_failure_is_clear_and_never_shows_the_password() {
    let Some(py) = python() else { return };
    let sink = Sink::start(&py, &["--auth", "mailer:s3cret"]);
    let mut config = sink.config(SmtpSecurity::None);
    config.username = Some("mailer".to_owned());
    config.password = Some("wrong-hunter2".to_owned());
    let mailer = SmtpMailer::new(config).unwrap();
    let err = mailer
        .send_classified(verify_mail("ann@example.org"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Smtp(SmtpFailure::AuthFailed { username, reply })
            if username == "mailer" && reply.contains("535")),
        "{err:?}"
    );
    let msg = MailError::from(err).to_string();
    assert!(
        msg.starts_with("mail transport failed: smtp authentication as `mailer` failed: "),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
    assert!(!format!("{mailer:?}").contains("hunter2"));
    sink.received(0);
}

#[tokio::test]
async fn smtp_rejected_recipient_is_clear() {
    let Some(py) = python() else { return };
    let sink = Sink::start(&py, &["--reject-rcpt", "nobody@example.org"]);
    let mailer = SmtpMailer::new(sink.config(SmtpSecurity::None)).unwrap();
    let err = mailer
        .send_classified(verify_mail("nobody@example.org"))
        .await
        .unwrap_err();
    match &err {
        SendError::Smtp(SmtpFailure::Rejected {
            recipient,
            code,
            reply,
        }) => {
            assert_eq!(recipient, "nobody@example.org");
            assert_eq!(*code, 550);
            assert!(reply.contains("Recipient address rejected"), "{reply}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        MailError::from(err).to_string().starts_with(
            "mail transport failed: smtp server rejected mail to `nobody@example.org`: "
        )
    );
    // The next message on the same mailer still goes through.
    mailer.send(verify_mail("ann@example.org")).await.unwrap();
    assert_eq!(
        sink.received(1)[0]["rcpt_tos"],
        serde_json::json!(["ann@example.org"])
    );
}

#[tokio::test]
async fn smtp_refused_connection_is_clear() {
    // Needs no Python: a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = SmtpConfig::new("127.0.0.1", "noreply@app.example");
    config.security = SmtpSecurity::None;
    config.port = Some(port);
    let mailer = SmtpMailer::new(config).unwrap();
    let err = mailer
        .send_classified(verify_mail("ann@example.org"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SendError::Smtp(SmtpFailure::ConnectionRefused { server })
            if *server == format!("127.0.0.1:{port}")),
        "{err:?}"
    );
    assert_eq!(
        MailError::from(err).to_string(),
        format!("mail transport failed: smtp connection to `127.0.0.1:{port}` refused")
    );
    // Through the trait too.
    let err = mailer
        .send(verify_mail("ann@example.org"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Transport(m) if m.contains("refused")));
}

#[tokio::test]
async fn smtp_silent_server_times_out() {
    // A listener that never answers: the TCP connection is accepted by the kernel, the
    // greeting never comes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = SmtpConfig::new("127.0.0.1", "noreply@app.example");
    config.security = SmtpSecurity::None;
    config.port = Some(port);
    config.timeout_secs = 1;
    let mailer = SmtpMailer::new(config).unwrap();
    let started = Instant::now();
    let err = mailer
        .send_classified(verify_mail("ann@example.org"))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(&err, SendError::Smtp(SmtpFailure::Timeout { server })
            if *server == format!("127.0.0.1:{port}")),
        "{err:?}"
    );
    drop(listener);
}

/// Headers of an `.eml` file (unfolded), and its body.
fn parse_eml(raw: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = raw.split_once("\r\n\r\n").expect("header/body separator");
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().expect("continuation after a header");
            last.1.push_str(line.trim_start());
        } else {
            let (k, v) = line.split_once(':').expect("header line");
            headers.push((k.to_owned(), v.trim().to_owned()));
        }
    }
    (headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// Undoes quoted-printable (soft line breaks and `=XX`); 7bit text passes unchanged.
fn unqp(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 3 <= bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn eml_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn folder_mailer_writes_parseable_eml_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("not").join("yet");
    let mailer = FolderMailer::new(&dir, "Portcullis <noreply@app.example>").unwrap();
    let path = mailer.write(verify_mail("ann@example.org")).await.unwrap();

    assert_eq!(path.parent(), Some(dir.as_path()));
    let names = eml_files(&dir);
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    assert!(name.ends_with(".eml") && !name.starts_with('.'), "{name}");
    // YYYYMMDDTHHMMSS.ffffffZ-counter-pid.eml
    assert_eq!(&name[8..9], "T");
    assert_eq!(&name[22..24], "Z-");
    assert!(
        name.contains(&format!("-000000-{}.eml", std::process::id())),
        "{name}"
    );

    let raw = std::fs::read_to_string(&path).unwrap();
    let (headers, body) = parse_eml(&raw);
    assert_eq!(header(&headers, "From"), "Portcullis <noreply@app.example>");
    assert_eq!(header(&headers, "To"), "ann@example.org");
    assert_eq!(
        header(&headers, "Subject"),
        "Confirm your e-mail address for Example App"
    );
    assert!(header(&headers, "Message-ID").contains('@'));
    assert!(!header(&headers, "Date").is_empty());
    let ctype = header(&headers, "Content-Type");
    assert!(ctype.starts_with("multipart/alternative"), "{ctype}");
    let boundary = ctype
        .split("boundary=\"")
        .nth(1)
        .and_then(|b| b.split('"').next())
        .unwrap();
    let parts: Vec<&str> = body
        .split(&format!("--{boundary}"))
        .filter(|p| p.starts_with("\r\n"))
        .collect();
    assert_eq!(parts.len(), 2, "{body}");
    let (h0, b0) = parse_eml(parts[0].trim_start_matches("\r\n"));
    let (h1, b1) = parse_eml(parts[1].trim_start_matches("\r\n"));
    assert!(header(&h0, "Content-Type").starts_with("text/plain"));
    assert!(header(&h1, "Content-Type").starts_with("text/html"));
    assert!(unqp(&b0).contains(VERIFY_LINK), "{b0}");
    assert!(
        unqp(&b1).contains(&VERIFY_LINK.replace('&', "&amp;")),
        "{b1}"
    );

    // Through the trait: a second, later file.
    mailer.send(verify_mail("bob@example.org")).await.unwrap();
    let names = eml_files(&dir);
    assert_eq!(names.len(), 2);
    assert!(names[1].contains("-000001-"), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn folder_mailer_names_are_unique_and_sorted_under_concurrency() {
    let tmp = tempfile::tempdir().unwrap();
    // A frozen clock: every file has the same timestamp, only the counter differs.
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let mailer = Arc::new(
        FolderMailer::new(tmp.path(), "noreply@app.example")
            .unwrap()
            .with_clock(clock),
    );
    let mut tasks = Vec::new();
    for i in 0..40 {
        let mailer = Arc::clone(&mailer);
        tasks.push(tokio::spawn(async move {
            mailer
                .write(OutgoingMail {
                    to: format!("user{i}@example.org"),
                    subject: format!("n{i}"),
                    text: format!("body {i}"),
                    html: None,
                })
                .await
                .unwrap()
        }));
    }
    let mut paths = Vec::new();
    for t in tasks {
        paths.push(t.await.unwrap());
    }
    let names = eml_files(tmp.path());
    assert_eq!(names.len(), 40, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("20270115T080000.000000Z-")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.ends_with(".tmp")));
    for (k, n) in names.iter().enumerate() {
        assert!(n.contains(&format!("Z-{k:06}-")), "{n}");
    }
    // Every message is in its own file, whole.
    let mut subjects: Vec<String> = paths
        .iter()
        .map(|p| {
            let (h, _) = parse_eml(&std::fs::read_to_string(p).unwrap());
            header(&h, "Subject").to_owned()
        })
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 40);
}

#[tokio::test]
async fn folder_mailer_reports_an_unwritable_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let mailer = FolderMailer::new(file.join("mail"), "noreply@app.example").unwrap();
    let err = mailer
        .send(verify_mail("ann@example.org"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MailError::Transport(m) if m.starts_with("cannot create the mail directory")),
        "{err:?}"
    );
    assert!(matches!(
        FolderMailer::new(tmp.path(), "not an address").unwrap_err(),
        MailError::Address(_)
    ));
}
