//! `portcullis import FILE`: users with existing password hashes, and their groups.
//!
//! Formats (by extension, or `--format`):
//! - CSV (`.csv`): a header row naming any of `username` (required), `email`,
//!   `password_hash` (or `password`: a stored hash, never plaintext), `first_name`,
//!   `last_name`, `sso_id`, `status` (`active`, `pending`, `blocked`) and `groups`
//!   (names separated by `;`). Other columns (py4web's `id`, `action_token`) are ignored.
//! - JSON (`.json`): an array of objects with the same fields (`groups` a list of
//!   strings), or a stream of such objects (JSON lines, `.jsonl`/`.ndjson`).
//!
//! The file is read as a stream (never whole into memory) on a reader thread and
//! written in batches (`--batch-size`, default 1000), each in one transaction. A process
//! killed mid-import leaves only whole batches; run the same import again to resume:
//! users already present (same username, e-mail or SSO id) are skipped. A progress bar
//! is drawn when standard error is a terminal.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal as _, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, ValueEnum};
use portcullis_store::{ImportStats, ImportUser};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed as _, SeqAccess, Visitor};
use tokio::sync::mpsc;

use super::with_store;
use crate::Outcome;

/// Arguments of `import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The file to import (`.csv`, `.json`, `.jsonl`).
    file: PathBuf,
    /// The file format (default: from the extension).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Users per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch_size: u32,
}

/// Import file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array of objects, or a stream of JSON objects.
    Json,
    /// One JSON object per line.
    Jsonl,
}

type Batch = anyhow::Result<Vec<ImportUser>>;

struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[derive(Debug, Deserialize)]
struct CsvRow {
    username: Option<String>,
    email: Option<String>,
    #[serde(alias = "password")]
    password_hash: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    sso_id: Option<String>,
    status: Option<String>,
    groups: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

impl CsvRow {
    fn into_user(self) -> ImportUser {
        ImportUser {
            username: self.username.unwrap_or_default(),
            email: non_empty(self.email),
            password_hash: non_empty(self.password_hash),
            first_name: self.first_name.unwrap_or_default(),
            last_name: self.last_name.unwrap_or_default(),
            sso_id: non_empty(self.sso_id),
            status: non_empty(self.status),
            groups: self
                .groups
                .unwrap_or_default()
                .split(';')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

fn detect(path: &Path) -> anyhow::Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => Ok(Format::Csv),
        Some("json") => Ok(Format::Json),
        Some("jsonl" | "ndjson") => Ok(Format::Jsonl),
        _ => bail!(
            "cannot tell the format of `{}` from its extension; use --format csv|json|jsonl",
            path.display()
        ),
    }
}

/// Sends batches to the writer; false when the writer has stopped.
struct Sender {
    tx: mpsc::Sender<Batch>,
    batch: Vec<ImportUser>,
    size: usize,
}

impl Sender {
    fn push(&mut self, u: ImportUser) -> bool {
        self.batch.push(u);
        if self.batch.len() >= self.size {
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(self.size));
            return self.tx.blocking_send(Ok(full)).is_ok();
        }
        true
    }

    fn finish(mut self) {
        if !self.batch.is_empty() {
            let rest = std::mem::take(&mut self.batch);
            let _ = self.tx.blocking_send(Ok(rest));
        }
    }

    fn fail(&self, err: anyhow::Error) {
        let _ = self.tx.blocking_send(Err(err));
    }
}

struct ArraySeed<'a>(&'a mut Sender);

impl<'de> de::DeserializeSeed<'de> for ArraySeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of user objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(u) = seq.next_element::<ImportUser>()? {
            if !self.0.push(u) {
                return Err(de::Error::custom("import cancelled"));
            }
        }
        Ok(())
    }
}

fn read_file(path: &Path, format: Format, mut out: Sender, read: Arc<AtomicU64>) {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            out.fail(anyhow!("cannot open `{}`: {e}", path.display()));
            return;
        }
    };
    let mut reader = BufReader::with_capacity(1 << 16, Counting { inner: file, read });
    match format {
        Format::Csv => {
            let mut csv = csv::ReaderBuilder::new()
                .trim(csv::Trim::Headers)
                .from_reader(reader);
            for rec in csv.deserialize::<CsvRow>() {
                match rec {
                    Ok(row) => {
                        if !out.push(row.into_user()) {
                            return;
                        }
                    }
                    Err(e) => {
                        out.fail(anyhow!("`{}`: {e}", path.display()));
                        return;
                    }
                }
            }
        }
        Format::Json | Format::Jsonl => {
            let starts_with_array = match reader.fill_buf() {
                Ok(buf) => buf.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'['),
                Err(e) => {
                    out.fail(anyhow!("cannot read `{}`: {e}", path.display()));
                    return;
                }
            };
            let mut de = serde_json::Deserializer::from_reader(reader);
            if starts_with_array {
                if let Err(e) = ArraySeed(&mut out)
                    .deserialize(&mut de)
                    .and_then(|()| de.end())
                {
                    out.fail(anyhow!("`{}`: {e}", path.display()));
                    return;
                }
            } else {
                for u in de.into_iter::<ImportUser>() {
                    match u {
                        Ok(u) => {
                            if !out.push(u) {
                                return;
                            }
                        }
                        Err(e) => {
                            out.fail(anyhow!("`{}`: {e}", path.display()));
                            return;
                        }
                    }
                }
            }
        }
    }
    out.finish();
}

fn progress_bar(total: u64) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {bytes}/{total_bytes} {msg}",
    ) {
        pb.set_style(style);
    }
    Some(pb)
}

pub(crate) fn run(url: &str, args: ImportArgs) -> anyhow::Result<Outcome> {
    let format = match args.format {
        Some(f) => f,
        None => detect(&args.file)?,
    };
    let total = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read `{}`", args.file.display()))?
        .len();
    with_store(url, |store| async move {
        let (tx, mut rx) = mpsc::channel::<Batch>(2);
        let read = Arc::new(AtomicU64::new(0));
        let size = args.batch_size as usize;
        let sender = Sender {
            tx,
            batch: Vec::with_capacity(size),
            size,
        };
        let path = args.file.clone();
        let counter = Arc::clone(&read);
        let reader = std::thread::spawn(move || read_file(&path, format, sender, counter));
        let pb = progress_bar(total);
        let mut stats = ImportStats::default();
        let mut failure = None;
        while let Some(batch) = rx.recv().await {
            let result = match batch {
                Ok(users) => store
                    .import_batch(&users)
                    .await
                    .map_err(anyhow::Error::from),
                Err(e) => Err(e),
            };
            match result {
                Ok(s) => stats.add(s),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
            if let Some(pb) = &pb {
                pb.set_position(read.load(Ordering::Relaxed));
                pb.set_message(format!(
                    "{} imported, {} skipped",
                    stats.inserted, stats.skipped
                ));
            }
        }
        drop(rx);
        let _ = reader.join();
        if let Some(pb) = &pb {
            pb.finish_and_clear();
        }
        let summary = format!(
            "{} user(s) imported, {} skipped (already present), {} group(s) created, {} membership(s)",
            stats.inserted, stats.skipped, stats.groups_created, stats.memberships
        );
        if let Some(e) = failure {
            eprintln!("{summary} before the error; run the import again to resume");
            return Err(e.context("import stopped"));
        }
        if stats.inserted > 0 {
            store
                .optimize()
                .await
                .context("imported, but refreshing the statistics failed")?;
        }
        say!("{summary}");
        Ok(Outcome::Yes)
    })
}
