//! Sending e-mail: [`SmtpMailer`] (SMTP through lettre, rustls only), [`FolderMailer`]
//! (development: one `.eml` file per message) and [`MailTemplates`] (the texts).
//!
//! Both mailers implement [`Mailer`](crate::mailer::Mailer); the flows only see that
//! trait. A message is an [`OutgoingMail`](crate::mailer::OutgoingMail): with `html`
//! set it goes out as `multipart/alternative` (plain text first, HTML second), else as a
//! single `text/plain` part. Both mailers build the message with lettre's builder, so the
//! SMTP bytes and the development files are the same RFC 5322 text (`Date`,
//! `Message-ID`, encoded headers, quoted-printable or base64 bodies).
//!
//! # SMTP configuration ([`SmtpConfig`])
//!
//! | field | default | what |
//! |---|---|---|
//! | `host` | (required) | server name; also the name the TLS certificate must carry |
//! | `port` | by `security`: 587, 465 or 25 | TCP port |
//! | `security` | `starttls` | [`SmtpSecurity`]: `starttls`, `tls` (implicit) or `none` |
//! | `username` / `password` | none | SMTP AUTH (PLAIN or LOGIN, as the server offers); both or neither |
//! | `from` | (required) | sender, `addr@example.org` or `Name <addr@example.org>` |
//! | `timeout_secs` | `30` | timeout for connecting, and for the whole exchange of one message |
//! | `extra_root_certificates` | none | PEM files trusted in addition to the built-in web roots (a private CA) |
//!
//! ## Security choices
//!
//! - `starttls` *requires* the upgrade: a server that does not offer `STARTTLS` is an
//!   error, never a silent plain-text fallback (lettre's `Tls::Required`).
//! - `tls` is implicit TLS ("SMTPS", port 465) from the first byte.
//! - `none` is accepted only for loopback hosts (`localhost`, `127.0.0.0/8`, `::1`),
//!   where it is meant for local test servers and relays; anything else is refused when
//!   the mailer is built.
//! - Certificates are checked against the Mozilla roots (`webpki-roots`) plus any
//!   `extra_root_certificates`; there is no "accept invalid certificates" switch.
//! - The password is never printed: `Debug` redacts it, and errors carry the server's
//!   reply, never the credentials.
//!
//! Failures are classified as [`SmtpFailure`] and reach the flows as
//! [`MailError::Transport`](crate::mailer::MailError::Transport) with a message such as
//! ``smtp connection to `mail.example.org:587` refused`` or
//! ``smtp server rejected mail to `bob@example.org`: 550 ...``; an address lettre cannot
//! parse is [`MailError::Address`](crate::mailer::MailError::Address).
//!
//! # Development mailer ([`FolderMailer`])
//!
//! Writes each message to `DIR/<UTC timestamp>-<counter>-<pid>.eml` (default `./mail`,
//! `--mail-dir DIR`), creating `DIR` when missing. The file is written under a hidden
//! temporary name and renamed into place, so a reader never sees half a message; the
//! names sort by time and are unique within a process (the counter) and between
//! processes (the pid). Each path is logged with `tracing::info!`.
//!
//! # Templates ([`MailTemplates`])
//!
//! | name | sent to | variables |
//! |---|---|---|
//! | `verify_email` | the address to verify | `site_name`, `email`, `link`, `expires_minutes` |
//! | `reset_password` | the account's address | `site_name`, `email`, `link`, `expires_minutes` |
//! | `email_changed_notice` | the *old* address | `site_name`, `email` (old), `new_email` |
//! | `magic_link` | the account's address | `site_name`, `email`, `link`, `expires_minutes` |
//! | `confirm_new_email`, `account_exists`, `username_taken`, `email_in_use`, `password_changed` | see [`templates`] | |
//!
//! Each has `NAME.txt` and `NAME.html`; the `.txt` starts with a `Subject: ...` line and
//! a blank line. The built-in versions are compiled in; a template directory given to
//! [`MailTemplates::with_dir`] overrides any of them file by file, read at run time.
//! `.html` templates are auto-escaped. See [`templates`] for the details.
//!
//! # Example
//!
//! ```no_run
//! use portcullis_portal::mail::{FolderMailer, MailTemplates, TemplateMail};
//! use portcullis_portal::mailer::Mailer;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let templates = MailTemplates::builtin("Example");
//! let mail = templates.render(
//!     "ann@example.org",
//!     &TemplateMail::VerifyEmail {
//!         link: "https://example.org/auth/verify_email?token=abc",
//!         expires_minutes: 1440,
//!     },
//! )?;
//! let mailer = FolderMailer::new("./mail", "Example <noreply@example.org>")?;
//! mailer.send(mail).await?;
//! # Ok(())
//! # }
//! ```

mod folder;
mod limit;
mod smtp;
pub mod templates;

#[cfg(test)]
mod tests;

pub use folder::FolderMailer;
pub use limit::{MailLimit, MailLimitConfig, MailRefusal};
pub use smtp::{SendError, SmtpConfig, SmtpFailure, SmtpMailer, SmtpSecurity};
pub use templates::{MailTemplates, TemplateError, TemplateMail};

use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::mailer::{MailError, OutgoingMail};

/// Parses a mailbox (`addr` or `Name <addr>`), as [`MailError::Address`] when invalid.
pub(crate) fn parse_mailbox(s: &str) -> Result<Mailbox, MailError> {
    s.trim()
        .parse::<Mailbox>()
        .map_err(|_| MailError::Address(s.to_owned()))
}

/// Builds the RFC 5322 message: `multipart/alternative` when there is HTML.
pub(crate) fn build_message(from: &Mailbox, msg: OutgoingMail) -> Result<Message, MailError> {
    let to = parse_mailbox(&msg.to)?;
    // A subject is one line; a template must not be able to add header lines.
    let subject = msg.subject.lines().next().unwrap_or_default().trim();
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .message_id(None);
    let built = match msg.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(msg.text, html)),
        None => builder.singlepart(SinglePart::plain(msg.text)),
    };
    built.map_err(|e| MailError::Transport(format!("cannot build the message: {e}")))
}
