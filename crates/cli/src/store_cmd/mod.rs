//! Identity store administration: `migrate`, `user`, `group`, `member`, `permission`,
//! `tag`, `token`, `import` and `principals`.
//!
//! Every command opens the store named by the global `--database URL` option
//! (environment `PORTCULLIS_DATABASE_URL`, default `sqlite://portcullis.sqlite` in the
//! current directory; a missing SQLite file is created) and applies pending migrations.
//! Each command builds its own tokio runtime: `main` stays synchronous.
//!
//! Passwords are read from a prompt when standard input is a terminal (asked twice),
//! else as one line from standard input (one trailing `\n` or `\r\n` removed); never
//! from the command line.
//!
//! Exit codes: 0 done; 1 a negative answer (`principals` of an unknown or blocked
//! user, `tag find` without matches, `member remove` of a non-member, `user delete`
//! of an unknown user); 2 an error (`error: ...`).

use std::fmt;
use std::future::Future;
use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::{Context as _, bail};
use portcullis_store::{Store, User};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

/// `println!` that returns an error instead of panicking, and treats a closed pipe
/// (`portcullis user list | head`) as the end of the output.
macro_rules! say {
    ($($t:tt)*) => {
        $crate::store_cmd::write_line(format_args!($($t)*))?
    };
}

pub(crate) mod group;
pub(crate) mod import;
pub(crate) mod tag;
pub(crate) mod token;
pub(crate) mod user;

use crate::Outcome;

/// Runs `f` on a fresh runtime with the store at `url` opened.
pub(crate) fn with_store<F, Fut>(url: &str, f: F) -> anyhow::Result<Outcome>
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = anyhow::Result<Outcome>>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let store = Store::open(url)
            .await
            .with_context(|| format!("cannot open the identity store `{}`", redact(url)))?;
        let store = store.acting_as(&cli_actor(), None);
        let out = f(store.clone()).await;
        store.close().await;
        out
    })
}

fn cli_actor() -> String {
    match std::env::var("USER") {
        Ok(u) if !u.is_empty() => format!("cli:{u}"),
        _ => "cli".to_owned(),
    }
}

/// The URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
    {
        let user = userinfo.split(':').next().unwrap_or("");
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

/// `portcullis migrate`.
pub(crate) fn migrate(url: &str) -> anyhow::Result<Outcome> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let opts = portcullis_store::StoreOptions {
            migrate: false,
            ..portcullis_store::StoreOptions::default()
        };
        let store = Store::open_with(url, opts)
            .await
            .with_context(|| format!("cannot open the identity store `{}`", redact(url)))?;
        let before = store.schema_version().await?;
        let applied = store.migrate().await.context("migration failed")?;
        let after = store.schema_version().await?;
        if applied.is_empty() {
            say!("schema is up to date (version {after})");
        } else {
            say!("migrated schema from version {before} to {after}");
        }
        store.close().await;
        Ok(Outcome::Yes)
    })
}

/// `portcullis principals USER`.
pub(crate) fn principals(url: &str, user: String) -> anyhow::Result<Outcome> {
    with_store(url, |store| async move {
        let found = match store.resolve_user(&user).await {
            Ok(u) => u,
            Err(portcullis_store::StoreError::NotFound { .. }) => {
                eprintln!("no such user `{user}`");
                return Ok(Outcome::No);
            }
            Err(e) => return Err(e.into()),
        };
        match store.principals_for(found.id).await? {
            Some(p) => {
                for principal in p.iter() {
                    say!("{principal}");
                }
                Ok(Outcome::Yes)
            }
            None => {
                eprintln!(
                    "user `{}` authenticates nobody (status {})",
                    found.username, found.status
                );
                Ok(Outcome::No)
            }
        }
    })
}

/// Reads a new password: prompted twice on a terminal, else one line of standard input.
pub(crate) fn read_new_password() -> anyhow::Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    let password = if stdin.is_terminal() {
        let first = Zeroizing::new(
            rpassword::prompt_password("New password: ").context("cannot read the password")?,
        );
        let second = Zeroizing::new(
            rpassword::prompt_password("Repeat password: ").context("cannot read the password")?,
        );
        if first != second {
            bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = Zeroizing::new(String::new());
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        if line.ends_with('\n') {
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
        }
        line
    };
    if password.is_empty() {
        bail!("empty password (use --no-password to create an account without one)");
    }
    Ok(password)
}

pub(crate) fn fmt_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

pub(crate) fn user_json(u: &User, groups: Option<&[String]>) -> Value {
    let mut v = json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "sso_id": u.sso_id,
        "status": u.status.as_str(),
        "has_password": u.password_hash.is_some(),
        "failed_logins": u.failed_logins,
        "created_at": fmt_time(u.created_at),
        "updated_at": fmt_time(u.updated_at),
        "last_login_at": u.last_login_at.map(fmt_time),
    });
    if let (Some(groups), Some(obj)) = (groups, v.as_object_mut()) {
        obj.insert("groups".into(), json!(groups));
    }
    v
}

pub(crate) fn print_json(v: &Value) -> anyhow::Result<()> {
    say!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub(crate) fn write_line(args: fmt::Arguments<'_>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{args}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to standard output"))
        }
        _ => Ok(()),
    }
}
