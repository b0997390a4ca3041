//! The mail transport the flows depend on.
//!
//! The portal never talks SMTP itself: verification, reset and notification mails go
//! through a [`Mailer`]. The `mail` module (SMTP, development folder mailer) implements
//! it; [`RecordingMailer`] keeps messages in memory for tests.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// A boxed, sendable future (what [`Mailer::send`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// The recipient address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An optional HTML alternative.
    pub html: Option<String>,
}

/// Why a mail could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The recipient or sender address is not acceptable.
    #[error("invalid address `{0}`")]
    Address(String),
    /// The transport failed (connection, refused by the server, file system, ...).
    #[error("mail transport failed: {0}")]
    Transport(String),
}

/// Delivers e-mail. Implementations must be cheap to call concurrently.
pub trait Mailer: Send + Sync {
    /// Sends `msg`.
    fn send(&self, msg: OutgoingMail) -> BoxFuture<'_, Result<(), MailError>>;
}

/// A [`Mailer`] that keeps every message in memory (a test double for the transport).
#[derive(Debug, Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<OutgoingMail>>,
}

impl RecordingMailer {
    /// An empty recorder.
    pub fn new() -> RecordingMailer {
        RecordingMailer::default()
    }

    /// A copy of every message sent so far, oldest first.
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.sent.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Removes and returns every message sent so far.
    pub fn take(&self) -> Vec<OutgoingMail> {
        self.sent
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

impl Mailer for RecordingMailer {
    fn send(&self, msg: OutgoingMail) -> BoxFuture<'_, Result<(), MailError>> {
        Box::pin(async move {
            self.sent
                .lock()
                .map_err(|_| MailError::Transport("recorder poisoned".to_owned()))?
                .push(msg);
            Ok(())
        })
    }
}
