//! The password policy, after NIST SP 800-63B §3.1.1.2 (memorized secrets).
//!
//! - a minimum length (default 8 characters) and a generous maximum (default 1024;
//!   never below 64), counted in Unicode scalar values (`char`s);
//! - no composition rules (no "one digit and one symbol"), no truncation;
//! - common and breached passwords rejected from an offline list built into the
//!   binary (Django's 20,000 common passwords, see `crates/store/data/NOTICE`),
//!   compared case-insensitively after trimming, as Django does;
//! - context words (username, e-mail address, service name) rejected when the password
//!   equals one of them, case-insensitively; for an e-mail address its local part is
//!   rejected too.
//!
//! Passwords are not Unicode-normalized: the bytes the user typed are what is hashed, so
//! a password typed once as NFC and once as NFD would not match. Normalizing would need
//! a Unicode-data dependency and would break the legacy formats, which hashed raw bytes.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Django's list of 20,000 common passwords (lowercase, one per line). BSD-3-Clause,
/// see `crates/store/data/NOTICE`.
static COMMON_PASSWORDS_TXT: &str = include_str!("../../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS_TXT
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Why a new password was refused. Messages are meant for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    /// Fewer characters than the minimum.
    #[error("password is too short: it has {actual} characters, at least {min} are required")]
    TooShort {
        /// The minimum.
        min: usize,
        /// The password's length in characters.
        actual: usize,
    },
    /// More characters than the maximum.
    #[error("password is too long: it has {actual} characters, at most {max} are allowed")]
    TooLong {
        /// The maximum.
        max: usize,
        /// The password's length in characters.
        actual: usize,
    },
    /// The password is on the list of common or breached passwords.
    #[error("password is too common: it appears in a list of common or breached passwords")]
    Common,
    /// The password is the username, the e-mail address or another context word.
    #[error("password must not be the same as the username, e-mail address or site name")]
    SameAsContext,
}

/// Rules for new passwords (at registration, reset or change).
///
/// ```
/// use portcullis_store::password::{PasswordPolicy, PolicyViolation};
///
/// let policy = PasswordPolicy::new();
/// assert_eq!(policy.check("correct horse battery staple", &["alice"]), Ok(()));
/// assert_eq!(
///     policy.check("short", &[]),
///     Err(PolicyViolation::TooShort { min: 8, actual: 5 })
/// );
/// assert_eq!(policy.check("Password1", &[]), Err(PolicyViolation::Common));
/// assert_eq!(policy.check("Alice@Example.org", &["alice@example.org"]), Err(PolicyViolation::SameAsContext));
/// ```
#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    min_chars: usize,
    max_chars: usize,
    reject_common: bool,
    blocklist: HashSet<String>,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordPolicy {
    /// Default minimum length in characters (NIST: at least 8).
    pub const DEFAULT_MIN_CHARS: usize = 8;
    /// Default maximum length in characters; bounds the hashing work of one request.
    pub const DEFAULT_MAX_CHARS: usize = 1024;
    /// The maximum can't be set below this (NIST: allow at least 64).
    pub const MAX_CHARS_FLOOR: usize = 64;

    /// 8 to 1024 characters, common passwords rejected, no extra blocklist.
    pub fn new() -> Self {
        Self {
            min_chars: Self::DEFAULT_MIN_CHARS,
            max_chars: Self::DEFAULT_MAX_CHARS,
            reject_common: true,
            blocklist: HashSet::new(),
        }
    }

    /// Sets the minimum length in characters (at least 1; at most the maximum).
    #[must_use]
    pub fn min_chars(mut self, min: usize) -> Self {
        self.min_chars = min.clamp(1, self.max_chars);
        self
    }

    /// Sets the maximum length in characters; values below 64 become 64, values below
    /// the minimum become the minimum.
    #[must_use]
    pub fn max_chars(mut self, max: usize) -> Self {
        self.max_chars = max.max(Self::MAX_CHARS_FLOOR).max(self.min_chars);
        self
    }

    /// Whether to reject the built-in list of common passwords (default: yes).
    #[must_use]
    pub fn reject_common(mut self, reject: bool) -> Self {
        self.reject_common = reject;
        self
    }

    /// Adds passwords to reject (compared like the common list: trimmed, lowercase),
    /// e.g. a site's own breach list or its name.
    #[must_use]
    pub fn with_blocklist<I, S>(mut self, words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.blocklist.extend(
            words
                .into_iter()
                .map(|w| fold(w.as_ref()))
                .filter(|w| !w.is_empty()),
        );
        self
    }

    /// The minimum length in characters.
    pub const fn min(&self) -> usize {
        self.min_chars
    }

    /// The maximum length in characters.
    pub const fn max(&self) -> usize {
        self.max_chars
    }

    /// Checks a new `password`. `context` holds words the password must not equal:
    /// the username, the e-mail address, the site's name.
    ///
    /// # Errors
    ///
    /// The first rule that fails, in this order: length, context words, common list.
    pub fn check(&self, password: &str, context: &[&str]) -> Result<(), PolicyViolation> {
        let actual = password.chars().count();
        if actual < self.min_chars {
            return Err(PolicyViolation::TooShort {
                min: self.min_chars,
                actual,
            });
        }
        if actual > self.max_chars {
            return Err(PolicyViolation::TooLong {
                max: self.max_chars,
                actual,
            });
        }
        let folded = zeroize::Zeroizing::new(fold(password));
        for word in context {
            let word = fold(word);
            if word.is_empty() {
                continue;
            }
            let local = word.split_once('@').map(|(local, _)| local);
            if *folded == word || local.is_some_and(|l| !l.is_empty() && *folded == l) {
                return Err(PolicyViolation::SameAsContext);
            }
        }
        if (self.reject_common && common_passwords().contains(folded.as_str()))
            || self.blocklist.contains(folded.as_str())
        {
            return Err(PolicyViolation::Common);
        }
        Ok(())
    }
}

/// Case-folds for comparison: trimmed, lowercase (as Django's validator).
fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Whether `password` is on the built-in common-password list (case-insensitive).
pub fn is_common_password(password: &str) -> bool {
    common_passwords().contains(fold(password).as_str())
}
