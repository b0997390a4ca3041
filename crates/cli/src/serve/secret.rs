//! Where the server's master secret comes from.
//!
//! One master secret signs everything (auth tickets, CSRF cookies, ...), each subsystem
//! with its own HKDF-derived key (see `portcullis_web::secret`). It is read, in order:
//!
//! 1. from the environment variable `PORTCULLIS_SECRET` (its bytes as given);
//! 2. from the configuration file given with `--config FILE`: the top-level `secret`
//!    key of a TOML file (`secret = "..."`).
//!
//! An empty or short (< 32 bytes) secret is refused, wherever it comes from. Only with
//! `--demo` may it be missing altogether: then a random one is generated for the life of
//! the process, and the server says so.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{Context as _, bail};
use portcullis_web::secret::MasterSecret;
use zeroize::Zeroizing;

/// The environment variable that holds the master secret.
pub(crate) const SECRET_ENV: &str = "PORTCULLIS_SECRET";

/// Where the secret in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `PORTCULLIS_SECRET`.
    Env,
    /// The configuration file.
    Config,
    /// Generated at start-up (`--demo` only).
    Ephemeral,
}

/// Resolves the master secret (see the module docs).
pub(crate) fn resolve(config: Option<&Path>, demo: bool) -> anyhow::Result<(MasterSecret, Source)> {
    resolve_from(std::env::var_os(SECRET_ENV), config, demo)
}

fn resolve_from(
    env: Option<OsString>,
    config: Option<&Path>,
    demo: bool,
) -> anyhow::Result<(MasterSecret, Source)> {
    if let Some(value) = env {
        let bytes = Zeroizing::new(value.into_encoded_bytes());
        let secret = MasterSecret::new(bytes.to_vec())
            .with_context(|| format!("invalid master secret in `{SECRET_ENV}`"))?;
        return Ok((secret, Source::Env));
    }
    if let Some(path) = config
        && let Some(secret) = from_config(path)?
    {
        return Ok((secret, Source::Config));
    }
    if demo {
        let secret = MasterSecret::generate().context("cannot generate an ephemeral secret")?;
        return Ok((secret, Source::Ephemeral));
    }
    bail!(
        "no master secret: set `{SECRET_ENV}` or `secret` in the configuration file (`--config`) \
         to at least {} random bytes, e.g. the output of `head -c 32 /dev/urandom | base64`",
        MasterSecret::MIN_LEN
    )
}

/// The `secret` of a TOML configuration file; `None` when the file has no `secret` key.
fn from_config(path: &Path) -> anyhow::Result<Option<MasterSecret>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file `{}`", path.display()))?,
    );
    let table: toml::Table = toml::from_str(&text)
        .with_context(|| format!("invalid configuration file `{}`", path.display()))?;
    match table.get("secret") {
        None => Ok(None),
        Some(toml::Value::String(s)) => {
            let bytes = Zeroizing::new(s.as_bytes().to_vec());
            MasterSecret::new(bytes.to_vec())
                .with_context(|| {
                    format!("invalid master secret in `{}` (`secret`)", path.display())
                })
                .map(Some)
        }
        Some(_) => bail!(
            "invalid configuration file `{}`: `secret` must be a string",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn environment_first_then_file_then_demo() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("portcullis.toml");
        std::fs::write(&file, format!("secret = \"{GOOD}-file\"\n")).unwrap();
        let (_, src) = resolve_from(Some(GOOD.into()), Some(&file), false).unwrap();
        assert_eq!(src, Source::Env);
        let (s, src) = resolve_from(None, Some(&file), false).unwrap();
        assert_eq!((s.len(), src), (GOOD.len() + 5, Source::Config));
        let (_, src) = resolve_from(None, None, true).unwrap();
        assert_eq!(src, Source::Ephemeral);
        let err = resolve_from(None, None, false).unwrap_err();
        assert!(format!("{err:#}").contains("no master secret"), "{err:#}");
        // A file without `secret` falls through to the demo's ephemeral secret.
        std::fs::write(&file, "other = 1\n").unwrap();
        assert_eq!(
            resolve_from(None, Some(&file), true).unwrap().1,
            Source::Ephemeral
        );
    }

    #[test]
    fn empty_and_short_secrets_are_refused_even_for_the_demo() {
        for bad in ["", "short"] {
            let err = resolve_from(Some(bad.into()), None, true).unwrap_err();
            let msg = format!("{err:#}");
            assert!(msg.contains("PORTCULLIS_SECRET"), "{msg}");
            assert!(msg.contains("at least 32"), "{msg}");
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "secret = \"\"\n").unwrap();
        assert!(resolve_from(None, Some(&file), true).is_err());
        std::fs::write(&file, "secret = 42\n").unwrap();
        assert!(resolve_from(None, Some(&file), true).is_err());
        std::fs::write(&file, "secret = \n").unwrap();
        assert!(resolve_from(None, Some(&file), true).is_err());
    }
}
