//! [`MailLimit`]: at most so many mails a user can trigger per recipient and per client
//! address, so that the portal cannot be used to mail-bomb someone.
//!
//! Registration, password-reset requests and e-mail changes send mail to an address the
//! *requester* chooses. Each such send is counted twice in a sliding window
//! ([`MailLimitConfig::window_secs`]): under the recipient (case-insensitive) and under the
//! client address. Over either limit the mail is not sent (and the event is audited as
//! `mail_throttled`), but the answer stays the same: answering differently would tell
//! whether an account exists.
//!
//! State lives in memory (one process), bounded by [`MailLimitConfig::max_keys`].

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use serde::Deserialize;

/// Limits of requester-triggered mail (the `[mail_limit]` table of the configuration).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MailLimitConfig {
    /// Length of the sliding window in seconds (default 3600).
    pub window_secs: u64,
    /// Mails to one recipient in the window (default 5).
    pub per_recipient: usize,
    /// Mails triggered by one client address in the window (default 20).
    pub per_client: usize,
    /// Upper bound on remembered keys (default 100000).
    pub max_keys: usize,
}

impl Default for MailLimitConfig {
    fn default() -> MailLimitConfig {
        MailLimitConfig {
            window_secs: 3600,
            per_recipient: 5,
            per_client: 20,
            max_keys: 100_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Recipient(String),
    Client(IpAddr),
}

/// Which limit refused a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailRefusal {
    /// Too many mails to this recipient.
    Recipient,
    /// Too many mails triggered from this client address.
    Client,
}

impl MailRefusal {
    /// `"recipient"` or `"client"` (for the audit log).
    pub const fn as_str(self) -> &'static str {
        match self {
            MailRefusal::Recipient => "recipient",
            MailRefusal::Client => "client",
        }
    }
}

/// The limiter (see the module docs).
#[derive(Debug)]
pub struct MailLimit {
    config: MailLimitConfig,
    sent: Mutex<HashMap<Key, VecDeque<i64>>>,
}

impl MailLimit {
    /// A limiter with `config`.
    pub fn new(config: MailLimitConfig) -> MailLimit {
        MailLimit {
            config,
            sent: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a mail to `to` triggered from `client` at `now` (unix seconds) when both
    /// limits allow it; otherwise counts nothing and says which limit refused.
    pub fn admit(&self, to: &str, client: IpAddr, now: i64) -> Result<(), MailRefusal> {
        let Ok(mut sent) = self.sent.lock() else {
            return Ok(());
        };
        let window = i64::try_from(self.config.window_secs).unwrap_or(i64::MAX);
        if sent.len() >= self.config.max_keys {
            sent.retain(|_, log| log.back().is_some_and(|t| *t > now - window));
            if sent.len() >= self.config.max_keys {
                sent.clear();
            }
        }
        let recipient = Key::Recipient(to.trim().to_lowercase());
        let client = Key::Client(client);
        let mut full = |key: &Key, limit: usize| {
            let log = sent.entry(key.clone()).or_default();
            while log.front().is_some_and(|t| *t <= now - window) {
                log.pop_front();
            }
            log.len() >= limit
        };
        if full(&client, self.config.per_client) {
            return Err(MailRefusal::Client);
        }
        if full(&recipient, self.config.per_recipient) {
            return Err(MailRefusal::Recipient);
        }
        for key in [recipient, client] {
            sent.entry(key).or_default().push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_recipient_and_per_client_limits_slide() {
        let limit = MailLimit::new(MailLimitConfig {
            per_recipient: 2,
            per_client: 3,
            ..MailLimitConfig::default()
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limit.admit("v@example.org", a, 0).is_ok());
        assert!(limit.admit("V@Example.org", b, 1).is_ok());
        // A third mail to the same recipient, from anywhere, is refused.
        assert_eq!(
            limit.admit("v@example.org", IpAddr::from([198, 51, 100, 1]), 2),
            Err(MailRefusal::Recipient)
        );
        // One client spraying many recipients.
        assert!(limit.admit("x@example.org", a, 3).is_ok());
        assert!(limit.admit("y@example.org", a, 4).is_ok());
        assert_eq!(limit.admit("z@example.org", a, 5), Err(MailRefusal::Client));
        // The window slides.
        assert!(limit.admit("v@example.org", b, 3601).is_ok());
        assert!(limit.admit("z@example.org", a, 3605).is_ok());
    }
}
