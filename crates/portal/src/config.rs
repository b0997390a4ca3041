//! [`PortalConfig`]: the TOML configuration file and its `PORTCULLIS_*` environment
//! overrides.
//!
//! Every key is optional; with no file at all the defaults below give a working
//! development server. An environment variable wins over the file.
//!
//! | key | env | default | what |
//! |---|---|---|---|
//! | `database` | `PORTCULLIS_DATABASE` | `sqlite:portcullis.db` | identity store URL (migrations are applied) |
//! | `bind` | `PORTCULLIS_BIND` | `127.0.0.1:8080` | listen address |
//! | `public_url` | `PORTCULLIS_PUBLIC_URL` | `http://127.0.0.1:8080` | base of links in e-mails; its origin is trusted |
//! | `mail_dir` | `PORTCULLIS_MAIL_DIR` | `./mail` | development mailer: one file per e-mail |
//! | `mail_from` | `PORTCULLIS_MAIL_FROM` | `portcullis@localhost` | sender address |
//! | `secret` | `PORTCULLIS_SECRET` | none | master secret (>= 32 bytes), as in `portcullis serve` |
//! | `trusted_proxies` | `PORTCULLIS_TRUSTED_PROXIES` (comma list) | none | peers whose `X-Forwarded-For` is believed |
//! | `trusted_origins` | `PORTCULLIS_TRUSTED_ORIGINS` (comma list) | none | extra origins allowed to POST JSON |
//! | `registration` | `PORTCULLIS_REGISTRATION` | `true` | `register` enabled |
//! | `verify_email` | `PORTCULLIS_VERIFY_EMAIL` | `true` | new accounts stay `pending` until verified |
//! | `magic_links` | `PORTCULLIS_MAGIC_LINKS` | `false` | passwordless sign-in by a mailed one-time link (`request_magic_link`, `magic_login`) |
//! | `max_body_bytes` | `PORTCULLIS_MAX_BODY_BYTES` | `16384` | larger request bodies get 413 |
//! | `reset_ttl_secs` | - | `3600` | reset-link lifetime |
//! | `verify_ttl_secs` | - | `86400` | verification-link lifetime |
//! | `insecure_cookies` | `PORTCULLIS_INSECURE_COOKIES` | `false` | drop `Secure` (plain-HTTP development only) |
//! | `[throttle]` | - | see [`ThrottleConfig`] | login throttling |
//! | `site_name` | `PORTCULLIS_SITE_NAME` | `Portcullis` | name shown in pages and mails |
//! | `templates_dir` | `PORTCULLIS_TEMPLATES_DIR` | none | overrides: `DIR/mail/NAME.txt\|html` (mails), `DIR/pages/NAME.html` (pages, `portal.css`), `DIR/admin/NAME.html` (admin UI, `admin.css`); a file there wins over the built-in one |
//! | `[mail_limit]` | - | see [`MailLimitConfig`] | mails a requester can trigger per recipient and per client address |
//! | `policy` | `PORTCULLIS_POLICY` | none (the built-in policy) | the policy file of forward auth (`/auth/verify`, see [`crate::forward_auth`]) |
//!
//! The master secret follows the rules of `portcullis serve`: the environment first, then
//! the file; shorter than 32 bytes is refused. It is never printed (`Debug` redacts it).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::PortalError;
use crate::mail::MailLimitConfig;
use crate::throttle::ThrottleConfig;

/// The portal's configuration (see the module docs for keys and defaults).
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortalConfig {
    /// Identity store URL.
    pub database: String,
    /// Listen address.
    pub bind: SocketAddr,
    /// Public base URL (scheme, host, optional port and path prefix), no trailing slash.
    pub public_url: String,
    /// Directory of the development folder mailer.
    pub mail_dir: PathBuf,
    /// Sender address of outgoing mail.
    pub mail_from: String,
    /// The master secret (at least 32 bytes); redacted in `Debug`.
    pub secret: Option<String>,
    /// Peers whose `X-Forwarded-For` header names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Origins (`scheme://host[:port]`) besides `public_url`'s allowed to POST.
    pub trusted_origins: Vec<String>,
    /// Whether `register` is enabled.
    pub registration: bool,
    /// Whether new accounts must verify their e-mail before logging in.
    pub verify_email: bool,
    /// Whether passwordless sign-in by a mailed one-time link is enabled.
    pub magic_links: bool,
    /// The largest accepted request body.
    pub max_body_bytes: usize,
    /// Reset-link lifetime in seconds.
    pub reset_ttl_secs: u64,
    /// Verification-link lifetime in seconds.
    pub verify_ttl_secs: u64,
    /// Drop the `Secure` cookie attribute (plain-HTTP development only).
    pub insecure_cookies: bool,
    /// Login throttling.
    pub throttle: ThrottleConfig,
    /// The name shown in pages and mails.
    pub site_name: String,
    /// Template overrides: `mail/` and `pages/` below it (a file there wins over the
    /// built-in one of the same name).
    pub templates_dir: Option<PathBuf>,
    /// Limits of mail a requester can trigger (registration, reset, e-mail change).
    pub mail_limit: MailLimitConfig,
    /// The policy file of forward auth (`None`: [`crate::forward_auth::DEFAULT_POLICY`]).
    pub policy: Option<PathBuf>,
}

impl Default for PortalConfig {
    fn default() -> PortalConfig {
        PortalConfig {
            database: "sqlite:portcullis.db".to_owned(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".to_owned(),
            mail_dir: PathBuf::from("./mail"),
            mail_from: "portcullis@localhost".to_owned(),
            secret: None,
            trusted_proxies: Vec::new(),
            trusted_origins: Vec::new(),
            registration: true,
            verify_email: true,
            magic_links: false,
            max_body_bytes: 16 * 1024,
            reset_ttl_secs: 3600,
            verify_ttl_secs: 24 * 3600,
            insecure_cookies: false,
            throttle: ThrottleConfig::default(),
            site_name: "Portcullis".to_owned(),
            templates_dir: None,
            mail_limit: MailLimitConfig::default(),
            policy: None,
        }
    }
}

impl fmt::Debug for PortalConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalConfig")
            .field("database", &self.database)
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("mail_dir", &self.mail_dir)
            .field("mail_from", &self.mail_from)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("trusted_proxies", &self.trusted_proxies)
            .field("trusted_origins", &self.trusted_origins)
            .field("registration", &self.registration)
            .field("verify_email", &self.verify_email)
            .field("magic_links", &self.magic_links)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("reset_ttl_secs", &self.reset_ttl_secs)
            .field("verify_ttl_secs", &self.verify_ttl_secs)
            .field("insecure_cookies", &self.insecure_cookies)
            .field("throttle", &self.throttle)
            .field("site_name", &self.site_name)
            .field("templates_dir", &self.templates_dir)
            .field("mail_limit", &self.mail_limit)
            .field("policy", &self.policy)
            .finish()
    }
}

fn parse_bool(key: &str, v: &str) -> Result<bool, PortalError> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(PortalError::Config(format!(
            "`{key}` must be true or false, not `{v}`"
        ))),
    }
}

fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

impl PortalConfig {
    /// Parses a TOML document (unknown keys are errors).
    pub fn from_toml(text: &str) -> Result<PortalConfig, PortalError> {
        let config: PortalConfig =
            toml::from_str(text).map_err(|e| PortalError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads `path` (when given, else the defaults) and applies the process environment.
    pub fn load(path: Option<&Path>) -> Result<PortalConfig, PortalError> {
        let mut config = match path {
            Some(p) => {
                let text = Zeroizing::new(std::fs::read_to_string(p).map_err(|e| {
                    PortalError::ConfigFile {
                        path: p.display().to_string(),
                        reason: e.to_string(),
                    }
                })?);
                PortalConfig::from_toml(&text)?
            }
            None => PortalConfig::default(),
        };
        let env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("PORTCULLIS_"))
            .collect();
        config.apply_env(&env)?;
        Ok(config)
    }

    /// Applies `PORTCULLIS_*` overrides from `env` (see the module docs), then validates.
    pub fn apply_env(&mut self, env: &BTreeMap<String, String>) -> Result<(), PortalError> {
        let bad =
            |k: &str, v: &str, why: String| PortalError::Config(format!("`{k}` = `{v}`: {why}"));
        for (k, v) in env {
            match k.as_str() {
                "PORTCULLIS_DATABASE" => self.database = v.clone(),
                "PORTCULLIS_BIND" => {
                    self.bind = v.parse().map_err(|e| bad(k, v, format!("{e}")))?;
                }
                "PORTCULLIS_PUBLIC_URL" => self.public_url = v.clone(),
                "PORTCULLIS_MAIL_DIR" => self.mail_dir = PathBuf::from(v),
                "PORTCULLIS_POLICY" => self.policy = Some(PathBuf::from(v)),
                "PORTCULLIS_MAIL_FROM" => self.mail_from = v.clone(),
                "PORTCULLIS_SITE_NAME" => self.site_name = v.clone(),
                "PORTCULLIS_TEMPLATES_DIR" => self.templates_dir = Some(PathBuf::from(v)),
                "PORTCULLIS_SECRET" => self.secret = Some(v.clone()),
                "PORTCULLIS_TRUSTED_PROXIES" => {
                    self.trusted_proxies = list(v)
                        .map(|s| s.parse().map_err(|e| bad(k, s, format!("{e}"))))
                        .collect::<Result<_, _>>()?;
                }
                "PORTCULLIS_TRUSTED_ORIGINS" => {
                    self.trusted_origins = list(v).map(str::to_owned).collect();
                }
                "PORTCULLIS_REGISTRATION" => self.registration = parse_bool(k, v)?,
                "PORTCULLIS_VERIFY_EMAIL" => self.verify_email = parse_bool(k, v)?,
                "PORTCULLIS_MAGIC_LINKS" => self.magic_links = parse_bool(k, v)?,
                "PORTCULLIS_INSECURE_COOKIES" => self.insecure_cookies = parse_bool(k, v)?,
                "PORTCULLIS_MAX_BODY_BYTES" => {
                    self.max_body_bytes = v.parse().map_err(|e| bad(k, v, format!("{e}")))?;
                }
                _ => {}
            }
        }
        self.validate()
    }

    /// Checks the values that cannot be checked by their type.
    pub fn validate(&self) -> Result<(), PortalError> {
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(PortalError::Config(format!(
                "`public_url` must start with http:// or https://, not `{}`",
                self.public_url
            )));
        }
        if let Some(s) = &self.secret
            && s.len() < 32
        {
            return Err(PortalError::Config(
                "`secret` must be at least 32 bytes".to_owned(),
            ));
        }
        if self.max_body_bytes < 256 {
            return Err(PortalError::Config(
                "`max_body_bytes` must be at least 256".to_owned(),
            ));
        }
        if self.reset_ttl_secs == 0 || self.verify_ttl_secs == 0 {
            return Err(PortalError::Config(
                "token lifetimes must be positive".to_owned(),
            ));
        }
        Ok(())
    }

    /// `public_url` without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// The origin (`scheme://host[:port]`) of `public_url`.
    pub fn public_origin(&self) -> String {
        let url = self.base_url();
        let after = url.find("://").map_or(0, |i| i + 3);
        match url[after..].find('/') {
            Some(i) => url[..after + i].to_owned(),
            None => url.to_owned(),
        }
    }

    /// Whether `origin` may POST to the API.
    pub fn origin_trusted(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        origin.eq_ignore_ascii_case(&self.public_origin())
            || self
                .trusted_origins
                .iter()
                .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }

    /// `came_from` as a safe place to send the browser after login, or `None`.
    ///
    /// Safe are a relative path that passes [`portcullis_web::denial::safe_redirect`]
    /// (starts with one `/`, no `//`, no backslash, no control character, also after
    /// percent-decoding), and an absolute `http(s)://` URL whose origin is `public_url`'s
    /// or one of `trusted_origins` (forward auth behind a reverse proxy sends those),
    /// without user info and with a path that is itself safe. Anything else (other hosts,
    /// `//host`, `javascript:`, `https://trusted@evil`, ...) is `None`.
    pub fn safe_came_from(&self, came_from: &str) -> Option<String> {
        if came_from.len() > 2048 {
            return None;
        }
        if came_from.starts_with('/') {
            return portcullis_web::denial::safe_redirect(came_from).map(str::to_owned);
        }
        let lower = came_from.to_ascii_lowercase();
        let scheme_len = if lower.starts_with("https://") {
            8
        } else if lower.starts_with("http://") {
            7
        } else {
            return None;
        };
        if came_from
            .bytes()
            .any(|b| b.is_ascii_control() || b == b'\\' || b == b' ')
        {
            return None;
        }
        let rest = came_from.get(scheme_len..)?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.is_empty() || authority.contains(['@', '%']) {
            return None;
        }
        let origin = came_from.get(..scheme_len + end)?;
        if !self.origin_trusted(origin) {
            return None;
        }
        if tail.starts_with('/') && portcullis_web::denial::safe_redirect(tail).is_none() {
            return None;
        }
        Some(came_from.to_owned())
    }

    /// The master secret, when configured.
    pub fn master_secret(
        &self,
    ) -> Result<Option<portcullis_web::secret::MasterSecret>, PortalError> {
        self.secret
            .as_ref()
            .map(|s| {
                portcullis_web::secret::MasterSecret::new(s.as_bytes().to_vec())
                    .map_err(|e| PortalError::Web(e.into()))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let c = PortalConfig::from_toml("").unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.mail_dir, PathBuf::from("./mail"));
        assert!(c.registration && c.verify_email);
        assert!(!c.magic_links);
    }

    #[test]
    fn env_overrides_file_and_unknown_keys_fail() {
        let mut c = PortalConfig::from_toml(
            "public_url = \"https://a.example/app/\"\n[throttle]\nper_address = 3\n",
        )
        .unwrap();
        assert_eq!(c.public_origin(), "https://a.example");
        assert_eq!(c.throttle.per_address, 3);
        let env = BTreeMap::from([
            ("PORTCULLIS_BIND".to_owned(), "0.0.0.0:9000".to_owned()),
            (
                "PORTCULLIS_TRUSTED_PROXIES".to_owned(),
                "10.0.0.1, ::1".to_owned(),
            ),
            ("PORTCULLIS_REGISTRATION".to_owned(), "off".to_owned()),
            ("PORTCULLIS_MAGIC_LINKS".to_owned(), "on".to_owned()),
        ]);
        c.apply_env(&env).unwrap();
        assert_eq!(c.bind.port(), 9000);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(!c.registration);
        assert!(c.magic_links);
        assert!(PortalConfig::from_toml("nope = 1").is_err());
        let bad = BTreeMap::from([("PORTCULLIS_REGISTRATION".to_owned(), "maybe".to_owned())]);
        assert!(c.apply_env(&bad).is_err());
    }

    #[test]
    fn safe_came_from_keeps_local_and_trusted_targets_only() {
        let mut c = PortalConfig::from_toml("public_url = \"https://portal.test/app\"").unwrap();
        c.trusted_origins = vec!["https://app.test:8443".to_owned()];
        for ok in [
            "/",
            "/auth/profile",
            "/docs?a=1&b=%2F#x",
            "https://portal.test",
            "https://portal.test/app/x?y=1",
            "HTTPS://PORTAL.TEST/",
            "https://app.test:8443/admin/users?page=2",
        ] {
            assert_eq!(c.safe_came_from(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "//evil.test",
            "/\\evil.test",
            "/%2F%2Fevil.test",
            "/%252F%252Fevil.test",
            "\\\\evil.test",
            "evil.test",
            "javascript:alert(1)",
            "data:text/html,x",
            "https://evil.test/",
            "https://portal.test.evil.test/",
            "https://portal.test@evil.test/",
            "https://evil.test#https://portal.test",
            "https://app.test/",
            "http://portal.test/",
            "https://portal.test//evil.test",
            "https://portal.test/\r\nSet-Cookie:x",
            "https:///evil.test",
            "https://portal.test%2F@evil.test",
        ] {
            assert_eq!(c.safe_came_from(bad), None, "{bad:?}");
        }
        let long = format!("/{}", "a".repeat(3000));
        assert_eq!(c.safe_came_from(&long), None);
    }

    #[test]
    fn short_secret_refused_and_redacted() {
        assert!(PortalConfig::from_toml("secret = \"short\"").is_err());
        let c = PortalConfig::from_toml("secret = \"0123456789abcdef0123456789abcdef\"").unwrap();
        assert!(!format!("{c:?}").contains("0123456789"));
        assert!(c.master_secret().unwrap().is_some());
    }
}
