//! In-process throttling of failed logins (and other password guesses).
//!
//! # Design
//!
//! Only *failures* are counted, in sliding windows (a log of failure times per key,
//! [`ThrottleConfig::window_secs`] long). Three keys are checked before a password is
//! even looked at:
//!
//! | key | limit (default) | stops |
//! |---|---|---|
//! | (account, client address) | 5 | one client guessing one account's password |
//! | client address | 30 | one client spraying many accounts |
//! | account | 100 | a botnet guessing one account from many addresses |
//!
//! The per-account ceiling is what could lock the real user out, so it does **not** apply
//! to an address this account has logged in from successfully (within
//! [`ThrottleConfig::known_address_secs`]): an attacker spread over many addresses
//! can slow down logins from new places, never the user's usual ones. And the
//! (account, address) bucket is filled only by guesses from that very address. A
//! success empties that address's (account, address) bucket. An over-limit answer is
//! 429 with `Retry-After`: the time until the oldest counted failure leaves the window.
//!
//! State lives in memory (one process); at most [`ThrottleConfig::max_keys`] keys are
//! kept (expired ones are dropped first, then the map is cleared, which errs towards
//! letting guesses through rather than growing without bound).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use serde::Deserialize;

/// Limits of the login throttle (the `[throttle]` table of the configuration file).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Length of the sliding window in seconds (default 900).
    pub window_secs: u64,
    /// Failures per (account, client address) in the window (default 5).
    pub per_account_address: usize,
    /// Failures per client address in the window (default 30).
    pub per_address: usize,
    /// Failures per account from addresses it never logged in from (default 100).
    pub per_account: usize,
    /// How long a successful login makes an address "known" for its account (default 30 days).
    pub known_address_secs: u64,
    /// Upper bound on remembered keys (default 100000).
    pub max_keys: usize,
}

impl Default for ThrottleConfig {
    fn default() -> ThrottleConfig {
        ThrottleConfig {
            window_secs: 900,
            per_account_address: 5,
            per_address: 30,
            per_account: 100,
            known_address_secs: 30 * 24 * 3600,
            max_keys: 100_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    AccountAddr(String, IpAddr),
    Addr(IpAddr),
    Account(String),
}

#[derive(Debug, Default)]
struct State {
    failures: HashMap<Key, VecDeque<i64>>,
    known: HashMap<(String, IpAddr), i64>,
}

/// The throttle (see the module docs). Share it behind an `Arc`.
#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    state: Mutex<State>,
}

fn norm(account: &str) -> String {
    account.trim().to_lowercase()
}

impl Throttle {
    /// A throttle with `config`.
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle {
            config,
            state: Mutex::new(State::default()),
        }
    }

    fn window(&self) -> i64 {
        i64::try_from(self.config.window_secs).unwrap_or(i64::MAX)
    }

    /// `Err(seconds)` when an attempt on `account` (if known) from `addr` at `now` must
    /// wait that long; `Ok` otherwise.
    pub fn check(&self, account: Option<&str>, addr: IpAddr, now: i64) -> Result<(), u64> {
        let Ok(mut st) = self.state.lock() else {
            return Ok(());
        };
        let window = self.window();
        let mut wait = 0i64;
        let mut probe = |st: &mut State, key: Key, limit: usize| {
            if let Some(log) = st.failures.get_mut(&key) {
                while log.front().is_some_and(|t| *t <= now - window) {
                    log.pop_front();
                }
                if log.len() >= limit
                    && let Some(oldest) = log.get(log.len() - limit)
                {
                    wait = wait.max(oldest + window - now);
                }
            }
        };
        probe(&mut st, Key::Addr(addr), self.config.per_address);
        if let Some(acc) = account {
            let acc = norm(acc);
            probe(
                &mut st,
                Key::AccountAddr(acc.clone(), addr),
                self.config.per_account_address,
            );
            let known_until = st.known.get(&(acc.clone(), addr)).copied();
            if known_until.is_none_or(|t| t <= now) {
                probe(&mut st, Key::Account(acc), self.config.per_account);
            }
        }
        if wait > 0 {
            Err(u64::try_from(wait).unwrap_or(1).max(1))
        } else {
            Ok(())
        }
    }

    /// Counts a failed attempt.
    pub fn record_failure(&self, account: Option<&str>, addr: IpAddr, now: i64) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        self.bound(&mut st, now);
        let mut keys = vec![Key::Addr(addr)];
        if let Some(acc) = account {
            let acc = norm(acc);
            keys.push(Key::AccountAddr(acc.clone(), addr));
            keys.push(Key::Account(acc));
        }
        for k in keys {
            st.failures.entry(k).or_default().push_back(now);
        }
    }

    /// Records a successful login: forgets this address's failures on the account and
    /// marks the address as known for it.
    pub fn record_success(&self, account: &str, addr: IpAddr, now: i64) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        self.bound(&mut st, now);
        let acc = norm(account);
        st.failures.remove(&Key::AccountAddr(acc.clone(), addr));
        let until = now.saturating_add(i64::try_from(self.config.known_address_secs).unwrap_or(0));
        st.known.insert((acc, addr), until);
    }

    fn bound(&self, st: &mut State, now: i64) {
        if st.failures.len() + st.known.len() < self.config.max_keys {
            return;
        }
        let window = self.window();
        st.failures
            .retain(|_, log| log.back().is_some_and(|t| *t > now - window));
        st.known.retain(|_, until| *until > now);
        if st.failures.len() + st.known.len() >= self.config.max_keys {
            st.failures.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn per_account_address_limit_and_window_slides() {
        let t = Throttle::new(ThrottleConfig::default());
        let a = ip("192.0.2.1");
        for i in 0..5 {
            assert!(t.check(Some("alice"), a, 1000 + i).is_ok());
            t.record_failure(Some("alice"), a, 1000 + i);
        }
        let wait = t.check(Some("Alice"), a, 1010).unwrap_err();
        assert_eq!(wait, 890);
        // Another address is not affected.
        assert!(t.check(Some("alice"), ip("192.0.2.2"), 1010).is_ok());
        // The window slides.
        assert!(t.check(Some("alice"), a, 1900).is_ok());
    }

    #[test]
    fn botnet_cannot_lock_out_known_address() {
        let cfg = ThrottleConfig {
            per_account: 10,
            ..ThrottleConfig::default()
        };
        let t = Throttle::new(cfg);
        let home = ip("198.51.100.7");
        t.record_success("bob", home, 0);
        for i in 0..50u8 {
            t.record_failure(Some("bob"), IpAddr::from([203, 0, 113, i]), 10);
        }
        assert!(t.check(Some("bob"), ip("203.0.113.200"), 11).is_err());
        assert!(t.check(Some("bob"), home, 11).is_ok());
    }

    #[test]
    fn address_spraying_is_limited() {
        let t = Throttle::new(ThrottleConfig::default());
        let a = ip("192.0.2.9");
        for i in 0..30 {
            t.record_failure(Some(&format!("user{i}")), a, 5);
        }
        assert!(t.check(Some("other"), a, 6).is_err());
        assert!(t.check(None, a, 6).is_err());
    }
}
