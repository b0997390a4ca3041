//! `portcullis serve`: the HTTP server.
//!
//! ```text
//! portcullis serve --demo [--bind ADDR] [--config FILE] [--database URL]
//! portcullis serve [--bind ADDR] [--config FILE] [--database URL] [--mail-dir DIR] [--policy FILE]
//! ```
//!
//! Without `--demo` it serves the portal (`portcullis_portal`: py4web's `/auth/api/`),
//! configured by `--config FILE` and `PORTCULLIS_*` (see docs/portal.md), with the
//! development mailer writing each e-mail as a file into `--mail-dir` (default `./mail`),
//! and forward auth for reverse proxies at `/auth/verify`
//! (`portcullis_portal::forward_auth`, docs/forward-auth.md) deciding with the policy file
//! of `--policy` (else `policy` in the configuration, else the built-in policy: every
//! request needs a logged-in user). A bad policy file stops the start with its
//! `file:line:column` (exit 2).
//! With `--demo` it serves the seed 000 demo ("simpleauth") and seed 001's admin side (see
//! [`demo`]). Start-up of the demo, in order:
//!
//! 1. the master secret ([`secret`]): `PORTCULLIS_SECRET`, else `secret` in the
//!    `--config` file; empty or short ones are refused (exit 2); `--demo` without any
//!    generates an ephemeral one and says so;
//! 2. the identity store at `--database` (migrations applied), seeded with the demo
//!    users and groups when missing;
//! 3. the listener on `--bind` (default `127.0.0.1:8080`; port 0 picks a free port), then
//!    `listening on http://ADDR` on standard error.
//!
//! Cookies are `Secure` (sent over HTTPS only) except for the demo on a loopback address,
//! where browsers talk plain HTTP: there the server warns and drops `Secure`.
//!
//! Ctrl-C or SIGTERM stops the server gracefully (in-flight requests finish).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use portcullis_store::{PrincipalsConfig, Store, StoreOptions};

use crate::Outcome;

mod demo;
mod pages;
mod secret;

/// The arguments of `portcullis serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Serve the demo: seed 000 ("simpleauth": users `genericuser`/`basic123` (group basic)
    /// and `superuser`/`secret123` (group secured), pages `/`, `/secret`, `/login`,
    /// `/logout`) and seed 001's admin side (`admin`/`admin123` (group admin): `/admin`,
    /// `/admin/users`; `/public` for everyone).
    #[arg(long)]
    demo: bool,
    /// The address to listen on (port 0: any free port; the address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// A TOML configuration file; its `secret` key is the master secret (at least 32
    /// bytes) unless `PORTCULLIS_SECRET` is set.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Without `--demo`: the development mailer writes each e-mail as a file here.
    #[arg(long, value_name = "DIR", default_value = "./mail")]
    mail_dir: PathBuf,
    /// Without `--demo`: the policy file (TOML resource tree with `acl`, `permission`,
    /// `require`) that `/auth/verify` decides with; overrides `policy` in `--config`.
    /// Default: every forwarded request needs a logged-in user.
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    policy: Option<PathBuf>,
}

pub(crate) fn run(database: &str, args: ServeArgs) -> anyhow::Result<Outcome> {
    if !args.demo {
        return run_portal(database, args);
    }
    let (master, source) = secret::resolve(args.config.as_deref(), args.demo)?;
    if source == secret::Source::Ephemeral {
        eprintln!(
            "warning: no master secret configured (`{}` or `secret` in `--config`): generated an \
             ephemeral one; logins and CSRF tokens end when the server stops",
            secret::SECRET_ENV
        );
    }
    let rt = runtime()?;
    rt.block_on(async move {
        let store = open_store(database).await?;
        let seeded = demo::seed(&store)
            .await
            .context("cannot create the demo users and groups")?;
        for user in &seeded.created {
            eprintln!("created demo user `{user}`");
        }
        for user in &seeded.kept {
            eprintln!("demo user `{user}` exists: left as it is");
        }
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("cannot listen on `{}`", args.bind))?;
        let addr = listener
            .local_addr()
            .context("cannot read the listening address")?;
        let loopback = addr.ip().is_loopback();
        if loopback {
            eprintln!(
                "warning: cookies without `Secure` so that browsers send them over plain HTTP: \
                 acceptable for the demo on a loopback address only"
            );
        } else {
            eprintln!(
                "warning: `{addr}` is not a loopback address: cookies are `Secure`, so browsers \
                 send them only over HTTPS (put a TLS-terminating proxy in front)"
            );
        }
        let app = demo::app(store.clone(), &master, !loopback)?;
        let users: Vec<String> = demo::USERS
            .iter()
            .map(|(user, password, group)| format!("{user}/{password} (group {group})"))
            .collect();
        eprintln!("demo users: {}", users.join(", "));
        eprintln!("listening on http://{addr}");
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server failed")?;
        store.close().await;
        eprintln!("stopped");
        Ok(Outcome::Yes)
    })
}

/// Without `--demo`: the portal's `/auth/api/` (see `portcullis_portal`), configured by
/// `--config` and `PORTCULLIS_*`, with the development folder mailer in `--mail-dir`.
fn run_portal(database: &str, args: ServeArgs) -> anyhow::Result<Outcome> {
    let mut config = portcullis_portal::PortalConfig::load(args.config.as_deref())
        .context("cannot load the portal configuration")?;
    config.database = database.to_owned();
    config.mail_dir = args.mail_dir.clone();
    if let Some(policy) = &args.policy {
        config.policy = Some(policy.clone());
    }
    // Checked before anything is opened: a bad file stops the start (exit 2).
    let policy = load_policy(config.policy.as_deref())?;
    let rt = runtime()?;
    rt.block_on(async move {
        let store = open_store(database).await?;
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("cannot listen on `{}`", args.bind))?;
        let addr = listener
            .local_addr()
            .context("cannot read the listening address")?;
        if addr.ip().is_loopback() && config.public_url.starts_with("http://") {
            config.insecure_cookies = true;
            eprintln!(
                "warning: cookies without `Secure` for plain HTTP on a loopback address \
                 (development only)"
            );
        }
        let mailer =
            portcullis_portal::mail::FolderMailer::new(&config.mail_dir, &config.mail_from)
                .with_context(|| {
                    format!(
                        "cannot use the mail directory `{}`",
                        config.mail_dir.display()
                    )
                })?;
        eprintln!(
            "development mailer: each e-mail is written to `{}`",
            config.mail_dir.display()
        );
        let state = portcullis_portal::PortalState::new(
            store.clone(),
            std::sync::Arc::new(mailer),
            config,
            portcullis_store::password::PasswordPolicy::new(),
        )
        .context("cannot start the portal")?;
        let mut verify = portcullis_portal::forward_auth::ForwardAuth::builder(state.clone());
        if let Some((text, name)) = policy {
            verify = verify.policy_named(text, name);
        }
        let verify = verify.build().context("cannot load the policy")?;
        if state.config().trusted_proxies.is_empty() {
            eprintln!(
                "warning: `trusted_proxies` is empty: /auth/verify answers 400 to every peer \
                 until the reverse proxy's address is configured"
            );
        }
        let app = portcullis_portal::router(state).merge(verify.router());
        eprintln!("listening on http://{addr}");
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server failed")?;
        store.close().await;
        eprintln!("stopped");
        Ok(Outcome::Yes)
    })
}

/// Reads and checks the forward-auth policy file, if one is configured: `(text, name)`;
/// `None` for the built-in policy. The start-up report says which applies.
fn load_policy(path: Option<&std::path::Path>) -> anyhow::Result<Option<(String, String)>> {
    let Some(path) = path else {
        eprintln!(
            "forward auth: built-in policy (every request needs a logged-in user); \
             `--policy FILE` to change it"
        );
        return Ok(None);
    };
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy file `{name}`"))?;
    portcullis_portal::forward_auth::validate_policy(&text, Some(&name))
        .context("invalid policy")?;
    eprintln!("forward auth: policy `{name}`");
    Ok(Some((text, name)))
}

/// Opens the store for serving: like the CLI's, but without the principals cache, so
/// changes made by other processes (`portcullis user block`, `member remove`) apply to
/// the very next request instead of after the cache's TTL.
async fn open_store(url: &str) -> anyhow::Result<Store> {
    let options = StoreOptions {
        principals: PrincipalsConfig {
            cache_disabled: true,
            ..PrincipalsConfig::default()
        },
        connect_timeout: Duration::from_secs(10),
        ..StoreOptions::default()
    };
    Store::open_with(url, options).await.with_context(|| {
        format!(
            "cannot open the identity store `{}`",
            crate::store_cmd::redact(url)
        )
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    eprintln!("shutting down");
}

/// Logs to standard error (colours only on a terminal) and starts the runtime the
/// server runs on.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
