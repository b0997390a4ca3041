//! Reading the development folder mailer's `.eml` files: the newest message to an address,
//! decoded (quoted-printable or base64 parts, multipart/alternative), and the link in it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;

/// The folder `portcullis serve --mail-dir` writes into.
#[derive(Debug)]
pub(crate) struct Mailbox {
    dir: PathBuf,
    base: String,
}

/// One decoded message.
#[derive(Debug)]
pub(crate) struct Mail {
    /// The file it came from.
    pub(crate) file: PathBuf,
    /// The decoded `Subject`.
    pub(crate) subject: String,
    /// The decoded text of every part (plain text first), joined.
    pub(crate) text: String,
}

impl Mailbox {
    pub(crate) fn new(dir: PathBuf, base: &str) -> Mailbox {
        Mailbox {
            dir,
            base: base.to_owned(),
        }
    }

    /// The `.eml` files in sending order (the names sort so).
    fn files(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "eml")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        files.sort();
        files
    }

    /// How many messages there are.
    pub(crate) fn count(&self) -> usize {
        self.files().len()
    }

    /// Waits (up to 15 s) for a message after the first `skip` ones that is addressed to
    /// `to` and links to a path containing `path_part`; returns it.
    pub(crate) async fn wait_for(&self, skip: usize, to: &str, path_part: &str) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            for file in self.files().into_iter().skip(skip) {
                let raw = std::fs::read(&file).unwrap();
                let mail = decode(file, &raw);
                let addressed = header(&raw, "to").is_some_and(|t| t.contains(to));
                if addressed && mail.link(&self.base, path_part).is_some() {
                    return mail;
                }
            }
            if Instant::now() > deadline {
                let seen: Vec<String> = self
                    .files()
                    .iter()
                    .map(|f| {
                        let raw = std::fs::read(f).unwrap();
                        format!("{}: {}", f.display(), String::from_utf8_lossy(&raw))
                    })
                    .collect();
                panic!(
                    "no mail to `{to}` with a link to `{path_part}` in {}; found:\n{}",
                    self.dir.display(),
                    seen.join("\n\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Mail {
    /// The first URL in the message that starts with `base` and contains `path_part`.
    pub(crate) fn link(&self, base: &str, path_part: &str) -> Option<String> {
        let mut rest = self.text.as_str();
        while let Some(at) = rest.find(base) {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\''))
                .unwrap_or(tail.len());
            let url = tail[..end].trim_end_matches(['.', ',', ')']);
            if url.contains(path_part) {
                // An HTML part writes `&` as `&amp;`.
                return Some(url.replace("&amp;", "&"));
            }
            rest = &tail[end..];
        }
        None
    }
}

/// Splits a message or part into its (unfolded) header block and body.
fn split(raw: &[u8]) -> (String, &[u8]) {
    let text = raw;
    let (head, body) = match find(text, b"\r\n\r\n") {
        Some(i) => (&text[..i], &text[i + 4..]),
        None => match find(text, b"\n\n") {
            Some(i) => (&text[..i], &text[i + 2..]),
            None => (text, &text[text.len()..]),
        },
    };
    let head = String::from_utf8_lossy(head)
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ")
        .replace("\n ", " ")
        .replace("\n\t", " ");
    (head, body)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The value of header `name` (case-insensitive) of a message or part.
fn header(raw: &[u8], name: &str) -> Option<String> {
    let (head, _) = split(raw);
    head_value(&head, name)
}

fn head_value(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_end_matches('\r').to_owned())
    })
}

/// A parameter (`boundary`, `charset`) of a structured header value.
fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Decodes a whole message: every leaf part's text, plain text before HTML.
fn decode(file: PathBuf, raw: &[u8]) -> Mail {
    let subject = header(raw, "subject")
        .map(|s| decode_words(&s))
        .unwrap_or_default();
    let mut parts = Vec::new();
    leaves(raw, &mut parts);
    parts.sort_by_key(|(ty, _)| !ty.starts_with("text/plain"));
    let text = parts
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("\n");
    Mail {
        file,
        subject,
        text,
    }
}

/// Collects `(content type, decoded text)` of the leaf parts of `raw`.
fn leaves(raw: &[u8], out: &mut Vec<(String, String)>) {
    let (head, body) = split(raw);
    let ty = head_value(&head, "content-type").unwrap_or_else(|| "text/plain".to_owned());
    let lower = ty.to_ascii_lowercase();
    if lower.starts_with("multipart/") {
        let Some(boundary) = param(&ty, "boundary") else {
            return;
        };
        let delimiter = format!("--{boundary}");
        let body = String::from_utf8_lossy(body).into_owned();
        for chunk in body.split(delimiter.as_str()).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let chunk = chunk
                .strip_prefix("\r\n")
                .or_else(|| chunk.strip_prefix('\n'))
                .unwrap_or(chunk);
            leaves(chunk.as_bytes(), out);
        }
        return;
    }
    let encoding = head_value(&head, "content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => {
            let compact: Vec<u8> = body
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_else(|e| panic!("bad base64 part: {e}"))
        }
        _ => body.to_vec(),
    };
    out.push((lower, String::from_utf8_lossy(&bytes).into_owned()));
}

/// RFC 2045 quoted-printable: `=XX` bytes and `=` soft line breaks.
fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'=' {
            if body[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if body[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            if let Some(hex) = body.get(i + 1..i + 3)
                && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(hex), 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`) in a header value.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("=?") {
        let Some(end) = rest[start + 2..].find("?=").map(|e| start + 2 + e) else {
            break;
        };
        let word = &rest[start + 2..end];
        let mut pieces = word.splitn(3, '?');
        let (_charset, enc, text) = (pieces.next(), pieces.next(), pieces.next());
        let decoded = match (enc.map(str::to_ascii_lowercase).as_deref(), text) {
            (Some("b"), Some(t)) => base64::engine::general_purpose::STANDARD
                .decode(t)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            (Some("q"), Some(t)) => Some(
                String::from_utf8_lossy(&quoted_printable(t.replace('_', " ").as_bytes()))
                    .into_owned(),
            ),
            _ => None,
        };
        let between = &rest[..start];
        // Whitespace between two encoded words is dropped.
        if !between.trim().is_empty() || out.is_empty() {
            out.push_str(between);
        }
        match decoded {
            Some(d) => out.push_str(&d),
            None => out.push_str(&rest[start..end + 2]),
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

#[test]
fn decodes_quoted_printable_and_base64_parts() {
    let raw = b"To: ann@example.org\r\nSubject: =?utf-8?b?Q29uZmlybSDDqQ==?=\r\n\
        Content-Type: multipart/alternative;\r\n boundary=\"XYZ\"\r\n\r\n\
        --XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\r\n\
        Open http://127.0.0.1:1/auth/verify_email?token=3Dab=\r\ncd now=C3=A9\r\n\
        --XYZ\r\nContent-Type: text/html; charset=utf-8\r\n\
        Content-Transfer-Encoding: base64\r\n\r\n\
        PGEgaHJlZj0iaHR0cDovLzEyNy4wLjAuMToxL3g/YT0xJmFtcDtiPTIiPng8L2E+\r\n\
        --XYZ--\r\n";
    let mail = decode(PathBuf::from("m.eml"), raw);
    assert_eq!(mail.subject, "Confirm é");
    assert!(mail.text.contains("now\u{e9}"), "{}", mail.text);
    assert_eq!(
        mail.link("http://127.0.0.1:1", "verify_email").as_deref(),
        Some("http://127.0.0.1:1/auth/verify_email?token=abcd")
    );
    assert_eq!(
        mail.link("http://127.0.0.1:1", "/x?").as_deref(),
        Some("http://127.0.0.1:1/x?a=1&b=2")
    );
    assert_eq!(header(raw, "to").as_deref(), Some("ann@example.org"));
}
