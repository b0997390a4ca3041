//! [`SmtpMailer`]: SMTP with STARTTLS or implicit TLS (rustls) through lettre.

use std::error::Error as _;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, Error as LettreSmtpError};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Deserialize;

use super::{build_message, parse_mailbox};
use crate::error::PortalError;
use crate::mailer::{BoxFuture, MailError, Mailer, OutgoingMail};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connect, then a mandatory `STARTTLS` upgrade (default port 587).
    #[default]
    Starttls,
    /// Implicit TLS from the first byte, "SMTPS" (default port 465).
    Tls,
    /// No encryption at all (default port 25): loopback hosts only, for local test
    /// servers and relays.
    None,
}

impl SmtpSecurity {
    /// The conventional port for this mode.
    pub const fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

fn default_timeout_secs() -> u64 {
    30
}

/// Settings of [`SmtpMailer`] (the `[smtp]` table of a configuration file).
///
/// `Debug` never shows the password.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name (or IP address); also the name its certificate must carry.
    pub host: String,
    /// TCP port; `None` means [`SmtpSecurity::default_port`].
    #[serde(default)]
    pub port: Option<u16>,
    /// Connection protection.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// SMTP AUTH user name (set together with `password`).
    #[serde(default)]
    pub username: Option<String>,
    /// SMTP AUTH password (set together with `username`).
    #[serde(default)]
    pub password: Option<String>,
    /// Sender: `addr@example.org` or `Name <addr@example.org>`.
    pub from: String,
    /// Timeout in seconds for connecting, and for the whole exchange of one message.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// PEM files whose certificates are trusted besides the built-in web roots.
    #[serde(default)]
    pub extra_root_certificates: Vec<PathBuf>,
}

impl SmtpConfig {
    /// A configuration with the defaults: STARTTLS on port 587, no AUTH, 30 s timeout.
    pub fn new(host: impl Into<String>, from: impl Into<String>) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port: None,
            security: SmtpSecurity::default(),
            username: None,
            password: None,
            from: from.into(),
            timeout_secs: default_timeout_secs(),
            extra_root_certificates: Vec::new(),
        }
    }

    /// The port actually used.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(self.security.default_port())
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout_secs", &self.timeout_secs)
            .field("extra_root_certificates", &self.extra_root_certificates)
            .finish()
    }
}

/// Why an SMTP delivery failed, classified from lettre's error.
///
/// Its message is what [`MailError::Transport`] carries; it never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmtpFailure {
    /// Nothing listens at the address (TCP connection refused).
    #[error("smtp connection to `{server}` refused")]
    ConnectionRefused {
        /// `host:port`.
        server: String,
    },
    /// The server could not be reached (DNS, routing, reset, ...).
    #[error("cannot connect to smtp server `{server}`: {reason}")]
    Connect {
        /// `host:port`.
        server: String,
        /// What the network stack said.
        reason: String,
    },
    /// Connecting or a command took longer than the configured timeout.
    #[error("smtp server `{server}` timed out")]
    Timeout {
        /// `host:port`.
        server: String,
    },
    /// TLS failed: no `STARTTLS` offered, untrusted certificate, wrong name, ...
    #[error("tls with smtp server `{server}` failed: {reason}")]
    Tls {
        /// `host:port`.
        server: String,
        /// The TLS error.
        reason: String,
    },
    /// The server refused the credentials (or offers no mechanism lettre supports).
    #[error("smtp authentication as `{username}` failed: {reply}")]
    AuthFailed {
        /// The user name (never the password).
        username: String,
        /// The server's reply.
        reply: String,
    },
    /// The server refused the message for this recipient (or its sender, or its
    /// content): a negative reply other than an AUTH one.
    #[error("smtp server rejected mail to `{recipient}`: {reply}")]
    Rejected {
        /// The recipient of the message.
        recipient: String,
        /// The reply code, e.g. 550.
        code: u16,
        /// The server's reply (code and text).
        reply: String,
    },
    /// Anything else (a protocol error, a shut-down transport).
    #[error("smtp delivery to `{server}` failed: {reason}")]
    Other {
        /// `host:port`.
        server: String,
        /// lettre's error.
        reason: String,
    },
}

impl From<SmtpFailure> for MailError {
    fn from(f: SmtpFailure) -> MailError {
        MailError::Transport(f.to_string())
    }
}

/// Reply codes of a refused SMTP AUTH (RFC 4954): 530 required, 534 mechanism too weak,
/// 535 invalid credentials, 538 encryption required, 454 temporary failure.
const AUTH_CODES: [u16; 5] = [530, 534, 535, 538, 454];

/// A [`Mailer`] that delivers over SMTP through lettre's `AsyncSmtpTransport` (tokio,
/// rustls, connection pool).
///
/// Must be used inside a tokio runtime. The transport (and its pool) is created on the
/// first send; the configuration is checked by [`SmtpMailer::new`].
pub struct SmtpMailer {
    builder: AsyncSmtpTransportBuilder,
    transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    server: String,
    username: Option<String>,
    security: SmtpSecurity,
    deadline: Duration,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .field("security", &self.security)
            .field("from", &self.from.to_string())
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Whether `host` is a loopback name or address.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl SmtpMailer {
    /// Checks `config` and prepares the transport.
    ///
    /// Refused: an empty host, `security = "none"` for a non-loopback host, a user name
    /// without a password or the reverse, an unparsable `from`, an unreadable or invalid
    /// certificate file.
    pub fn new(config: SmtpConfig) -> Result<SmtpMailer, PortalError> {
        let bad = |m: String| PortalError::Config(format!("smtp: {m}"));
        let host = config.host.trim().to_owned();
        if host.is_empty() {
            return Err(bad("`host` is empty".to_owned()));
        }
        if config.security == SmtpSecurity::None && !is_loopback_host(&host) {
            return Err(bad(format!(
                "`security = \"none\"` is only allowed for loopback hosts, not `{host}`"
            )));
        }
        let from = parse_mailbox(&config.from)
            .map_err(|_| bad(format!("invalid `from` address `{}`", config.from)))?;
        let port = config.effective_port();
        let timeout = Duration::from_secs(config.timeout_secs.max(1));

        let tls = match config.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::Starttls | SmtpSecurity::Tls => {
                let mut params = TlsParameters::builder(host.clone());
                for path in &config.extra_root_certificates {
                    let pem = std::fs::read(path).map_err(|e| {
                        bad(format!("cannot read certificate `{}`: {e}", path.display()))
                    })?;
                    let cert = Certificate::from_pem(&pem).map_err(|e| {
                        bad(format!("invalid certificate `{}`: {e}", path.display()))
                    })?;
                    params = params.add_root_certificate(cert);
                }
                let params = params
                    .build_rustls()
                    .map_err(|e| bad(format!("tls parameters for `{host}`: {e}")))?;
                if config.security == SmtpSecurity::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };

        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(timeout));
        let username = match (config.username, config.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password));
                Some(user)
            }
            (None, None) => None,
            _ => {
                return Err(bad(
                    "`username` and `password` must be set together".to_owned()
                ));
            }
        };
        let server = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(SmtpMailer {
            builder,
            transport: OnceLock::new(),
            from,
            server,
            username,
            security: config.security,
            deadline: timeout,
        })
    }

    /// The sender every message carries.
    pub fn from_address(&self) -> &Mailbox {
        &self.from
    }

    /// Sends `msg`, with the failure classified.
    pub async fn send_classified(&self, msg: OutgoingMail) -> Result<(), SendError> {
        let recipient = msg.to.clone();
        let message = build_message(&self.from, msg).map_err(SendError::Mail)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SendError::Mail(MailError::Transport(
                "the smtp mailer needs a tokio runtime".to_owned(),
            )));
        }
        let transport = self
            .transport
            .get_or_init(|| self.builder.clone().build::<Tokio1Executor>());
        // lettre's timeout covers connecting only (a server that accepts and then stays
        // silent would hang the send forever), so the whole exchange gets a deadline.
        let sent = match tokio::time::timeout(self.deadline, transport.send(message)).await {
            Ok(sent) => sent,
            Err(_) => {
                let failure = SmtpFailure::Timeout {
                    server: self.server.clone(),
                };
                tracing::warn!(server = %self.server, to = %recipient, error = %failure, "mail not sent");
                return Err(SendError::Smtp(failure));
            }
        };
        match sent {
            Ok(_) => {
                tracing::debug!(server = %self.server, to = %recipient, "mail sent");
                Ok(())
            }
            Err(e) => {
                let failure = self.classify(&e, &recipient);
                tracing::warn!(server = %self.server, to = %recipient, error = %failure, "mail not sent");
                Err(SendError::Smtp(failure))
            }
        }
    }

    fn classify(&self, e: &LettreSmtpError, recipient: &str) -> SmtpFailure {
        let server = self.server.clone();
        let chain = error_chain(e);
        if let Some(code) = e.status() {
            let code = u16::from(code);
            let reply = chain;
            if AUTH_CODES.contains(&code) && self.username.is_some() {
                return SmtpFailure::AuthFailed {
                    username: self.username.clone().unwrap_or_default(),
                    reply,
                };
            }
            return SmtpFailure::Rejected {
                recipient: recipient.to_owned(),
                code,
                reply,
            };
        }
        if e.is_timeout() {
            return SmtpFailure::Timeout { server };
        }
        if let Some(io) = io_error(e) {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return SmtpFailure::ConnectionRefused { server };
            }
            // rustls reports handshake failures (untrusted certificate, wrong name,
            // protocol mismatch) as `InvalidData` I/O errors.
            if io.kind() == std::io::ErrorKind::InvalidData && self.security != SmtpSecurity::None {
                return SmtpFailure::Tls {
                    server,
                    reason: io.to_string(),
                };
            }
            if !e.is_tls() {
                return SmtpFailure::Connect {
                    server,
                    reason: io.to_string(),
                };
            }
        }
        if e.is_tls() {
            return SmtpFailure::Tls {
                server,
                reason: chain,
            };
        }
        if e.is_client() && chain.contains("authentication mechanism") {
            return SmtpFailure::AuthFailed {
                username: self.username.clone().unwrap_or_default(),
                reply: "the server offers no supported authentication mechanism".to_owned(),
            };
        }
        if e.is_client() && self.security == SmtpSecurity::Starttls && chain.contains("STARTTLS") {
            return SmtpFailure::Tls {
                server,
                reason: chain,
            };
        }
        SmtpFailure::Other {
            server,
            reason: chain,
        }
    }
}

/// The failure of [`SmtpMailer::send_classified`].
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message itself is not sendable (bad address).
    #[error(transparent)]
    Mail(MailError),
    /// The SMTP exchange failed.
    #[error(transparent)]
    Smtp(SmtpFailure),
}

impl From<SendError> for MailError {
    fn from(e: SendError) -> MailError {
        match e {
            SendError::Mail(m) => m,
            SendError::Smtp(f) => f.into(),
        }
    }
}

/// lettre's error and its sources, joined with `: ` (lettre's own `Display` already
/// includes its direct source).
fn error_chain(e: &LettreSmtpError) -> String {
    let mut out = e.to_string();
    let mut source = e.source().and_then(|s| s.source());
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn io_error(e: &LettreSmtpError) -> Option<&std::io::Error> {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = s.source();
    }
    None
}

impl Mailer for SmtpMailer {
    fn send(&self, msg: OutgoingMail) -> BoxFuture<'_, Result<(), MailError>> {
        Box::pin(async move { self.send_classified(msg).await.map_err(MailError::from) })
    }
}
