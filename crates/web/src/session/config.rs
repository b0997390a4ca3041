//! [`SessionConfig`]: cookie attributes and timeouts.

use std::fmt;
use std::time::Duration;

use super::SessionError;

/// The cookie's `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// Never sent on cross-site requests (also not on top-level links from other sites).
    Strict,
    /// Sent on top-level cross-site GET navigations only (the default): links into the
    /// site keep the user logged in, cross-site POSTs carry no session.
    #[default]
    Lax,
    /// Always sent (needs `Secure`); only for sites embedded cross-site.
    None,
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        })
    }
}

/// The default cookie name.
pub const DEFAULT_COOKIE_NAME: &str = "portcullis_session";

/// Session cookie and lifetime settings. `HttpOnly` is always set.
///
/// | setting | default | why |
/// |---|---|---|
/// | cookie name | `portcullis_session` | consider `__Host-portcullis_session`: the browser then refuses the cookie unless it is `Secure`, host-only and `Path=/`, so a sibling subdomain cannot plant one |
/// | `Secure` | on | the id never travels over plain HTTP; [`SessionConfig::dangerous_insecure_cookies`] turns it off for local `http://` development |
/// | `SameSite` | `Lax` | cross-site POSTs carry no session (a CSRF layer of its own), links still work |
/// | `Path` | `/` | one session for the whole site |
/// | `Domain` | none (host-only) | subdomains do not receive the id |
/// | idle timeout | 30 min | an abandoned session dies soon (OWASP: 15-30 min for most applications) |
/// | absolute timeout | 12 h | a stolen id cannot be kept alive forever by activity |
/// | touch interval | 60 s | `last_seen_at` is written at most once a minute per session, not on every request; idle expiry is thus exact to within this interval |
/// | persistent | off | no `Max-Age`: the browser forgets the cookie when it closes; when on, `Max-Age` runs to the absolute expiry |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub(crate) cookie_name: String,
    pub(crate) secure: bool,
    pub(crate) same_site: SameSite,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) idle_timeout: Duration,
    pub(crate) absolute_timeout: Duration,
    pub(crate) touch_interval: Duration,
    pub(crate) persistent: bool,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            secure: true,
            same_site: SameSite::Lax,
            path: "/".to_owned(),
            domain: None,
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 60 * 60),
            touch_interval: Duration::from_secs(60),
            persistent: false,
        }
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_attr_value(s: &str) -> bool {
    s.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b';')
}

impl SessionConfig {
    /// The defaults (see the table above).
    pub fn new() -> SessionConfig {
        SessionConfig::default()
    }

    /// The cookie name.
    pub fn cookie_name(mut self, name: impl Into<String>) -> SessionConfig {
        self.cookie_name = name.into();
        self
    }

    /// Drops the `Secure` attribute so the cookie works over plain `http://`.
    ///
    /// Only for local development: without `Secure`, anyone on the network path can
    /// read the session id and take over the session.
    pub fn dangerous_insecure_cookies(mut self) -> SessionConfig {
        self.secure = false;
        self
    }

    /// The `SameSite` attribute (`SameSite::None` requires `Secure`).
    pub fn same_site(mut self, same_site: SameSite) -> SessionConfig {
        self.same_site = same_site;
        self
    }

    /// The `Path` attribute (must start with `/`).
    pub fn path(mut self, path: impl Into<String>) -> SessionConfig {
        self.path = path.into();
        self
    }

    /// A `Domain` attribute: the cookie then also goes to that domain's subdomains.
    /// Leave unset unless sessions must be shared across subdomains.
    pub fn domain(mut self, domain: impl Into<String>) -> SessionConfig {
        self.domain = Some(domain.into());
        self
    }

    /// Inactivity after which a session ends.
    pub fn idle_timeout(mut self, timeout: Duration) -> SessionConfig {
        self.idle_timeout = timeout;
        self
    }

    /// Lifetime after which a session ends whatever its activity.
    pub fn absolute_timeout(mut self, timeout: Duration) -> SessionConfig {
        self.absolute_timeout = timeout;
        self
    }

    /// Minimum time between two writes of `last_seen_at` for one session.
    pub fn touch_interval(mut self, interval: Duration) -> SessionConfig {
        self.touch_interval = interval;
        self
    }

    /// Sends `Max-Age` (up to the absolute expiry) so the cookie survives a browser
    /// restart.
    pub fn persistent(mut self, persistent: bool) -> SessionConfig {
        self.persistent = persistent;
        self
    }

    /// Whether the cookie is sent with `Secure`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The configured cookie name.
    pub fn name(&self) -> &str {
        &self.cookie_name
    }

    /// The idle timeout.
    pub fn idle(&self) -> Duration {
        self.idle_timeout
    }

    /// The absolute timeout.
    pub fn absolute(&self) -> Duration {
        self.absolute_timeout
    }

    /// Checks the settings for consistency.
    pub fn validate(&self) -> Result<(), SessionError> {
        let bad = |m: String| Err(SessionError::Config(m));
        if !is_token(&self.cookie_name) {
            return bad(format!(
                "cookie name `{}` is not an http token",
                self.cookie_name
            ));
        }
        if !self.path.starts_with('/') || !is_attr_value(&self.path) {
            return bad(format!("cookie path `{}` must start with `/`", self.path));
        }
        if let Some(d) = &self.domain
            && (d.is_empty() || !is_attr_value(d))
        {
            return bad(format!("cookie domain `{d}` is not valid"));
        }
        if self.same_site == SameSite::None && !self.secure {
            return bad("SameSite=None requires Secure cookies".into());
        }
        if self.cookie_name.starts_with("__Secure-") && !self.secure {
            return bad("a `__Secure-` cookie must be Secure".into());
        }
        if self.cookie_name.starts_with("__Host-")
            && (!self.secure || self.path != "/" || self.domain.is_some())
        {
            return bad("a `__Host-` cookie must be Secure, Path=/ and have no Domain".into());
        }
        if self.idle_timeout.as_secs() == 0 || self.absolute_timeout.as_secs() == 0 {
            return bad("timeouts must be at least one second".into());
        }
        if self.idle_timeout > self.absolute_timeout {
            return bad("the idle timeout exceeds the absolute timeout".into());
        }
        if self.touch_interval >= self.idle_timeout {
            return bad("the touch interval must be shorter than the idle timeout".into());
        }
        Ok(())
    }
}
