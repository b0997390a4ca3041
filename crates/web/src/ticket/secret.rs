//! The secret that signs auth tickets.

use std::fmt;

use zeroize::Zeroizing;

use super::error::TicketError;
use crate::secret::{MasterSecret, Purpose};

/// The secret that signs auth tickets: either derived from the [`MasterSecret`]
/// (the default) or given verbatim to share logins with a Pyramid application.
///
/// Wiped on drop; `Debug` never prints it.
#[derive(Clone)]
pub struct TicketSecret {
    bytes: Zeroizing<Vec<u8>>,
}

impl TicketSecret {
    /// The ticket key derived from the master secret ([`Purpose::Tickets`]), used as
    /// its 64 lowercase hex characters. Because it is printable, the same value can be
    /// given to Pyramid (`AuthTktCookieHelper(secret=...)`) or to
    /// `portcullis ticket verify --secret`.
    pub fn derived(master: &MasterSecret) -> Self {
        let hex = master.derive(&Purpose::Tickets).to_hex();
        Self {
            bytes: Zeroizing::new(hex.as_bytes().to_vec()),
        }
    }

    /// A secret used exactly as given: Pyramid's `secret` string encoded as UTF-8.
    ///
    /// Use this to share logins with a running Pyramid application (both sides must
    /// use the same string). Heed Pyramid's *admonishment against secret-sharing*:
    /// this string must sign auth tickets only; never reuse it for sessions, CSRF or
    /// anything else that signs attacker-influenced data, or the signature of one may
    /// be forged through the other. Portcullis's own subsystems never reuse it: they
    /// derive their keys from the [`MasterSecret`]. Refuses an empty secret (Pyramid
    /// would accept it; a ticket signed with it is forgeable).
    pub fn verbatim(secret: impl Into<Vec<u8>>) -> Result<Self, TicketError> {
        let bytes = Zeroizing::new(secret.into());
        if bytes.is_empty() {
            return Err(TicketError::EmptySecret);
        }
        Ok(Self { bytes })
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for TicketSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketSecret(<redacted>)")
    }
}
