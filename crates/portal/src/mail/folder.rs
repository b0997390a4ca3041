//! [`FolderMailer`]: the development mailer, one `.eml` file per message.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lettre::message::Mailbox;
use portcullis_store::{Clock, SystemClock};

use super::{build_message, parse_mailbox};
use crate::mailer::{BoxFuture, MailError, Mailer, OutgoingMail};

/// A [`Mailer`] that writes each message as an RFC 5322 file into a directory (for
/// development: open the `.eml` in a mail client, or read the link from it).
///
/// Files are named `YYYYMMDDTHHMMSS.ffffffZ-<counter>-<pid>.eml` (UTC, from the
/// injected [`Clock`]): they sort in sending order and are unique within the process
/// (the counter) and between processes sharing the directory (the pid). Each is written
/// under a hidden `.tmp` name and renamed into place, so it appears complete.
pub struct FolderMailer {
    dir: PathBuf,
    from: Mailbox,
    counter: AtomicU64,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for FolderMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FolderMailer")
            .field("dir", &self.dir)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl FolderMailer {
    /// A mailer writing into `dir` (created on the first message when missing), with
    /// `from` as the sender (`addr` or `Name <addr>`), using the system clock.
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> Result<FolderMailer, MailError> {
        Ok(FolderMailer {
            dir: dir.into(),
            from: parse_mailbox(from)?,
            counter: AtomicU64::new(0),
            clock: Arc::new(SystemClock),
        })
    }

    /// The same mailer with another clock (for file names in tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> FolderMailer {
        self.clock = clock;
        self
    }

    /// The directory the files go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `msg` and returns the path of the new file.
    pub async fn write(&self, msg: OutgoingMail) -> Result<PathBuf, MailError> {
        let to = msg.to.clone();
        let bytes = build_message(&self.from, msg)?.formatted();
        let name = self.next_name();
        let dir = self.dir.clone();
        let path = tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
            .await
            .map_err(|e| MailError::Transport(format!("mail writer task failed: {e}")))??;
        tracing::info!(path = %path.display(), to = %to, "mail written");
        Ok(path)
    }

    fn next_name(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let t = self.clock.now();
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}.{:06}Z-{:06}-{}.eml",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond(),
            n,
            std::process::id()
        )
    }
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, MailError> {
    let fail = |what: &str, p: &Path, e: std::io::Error| {
        MailError::Transport(format!("cannot {what} `{}`: {e}", p.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("create the mail directory", dir, e))?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("write", &tmp, e));
    }
    if let Err(e) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("rename into place", &path, e));
    }
    Ok(path)
}

impl Mailer for FolderMailer {
    fn send(&self, msg: OutgoingMail) -> BoxFuture<'_, Result<(), MailError>> {
        Box::pin(async move { self.write(msg).await.map(|_| ()) })
    }
}
