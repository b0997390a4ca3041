//! `portcullis token create|list|revoke`: API tokens.

use std::time::Duration;

use clap::Subcommand;
use serde_json::json;

use super::{fmt_time, print_json, with_store};
use crate::Outcome;

/// Manage API tokens (stored hashed; the token is shown once, at creation).
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create an API token for USER and print it (only this once).
    Create {
        /// Id, username or e-mail of the owner.
        user: String,
        /// A label.
        #[arg(long, default_value = "")]
        name: String,
        /// Expire after this many days (never by default).
        #[arg(long, value_name = "DAYS")]
        expires_days: Option<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List API tokens (of USER, or everyone's), without secrets.
    List {
        /// Id, username or e-mail.
        user: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke API token ID (exit 1 if unknown or already revoked).
    Revoke {
        /// The token id (see `token list`).
        id: i64,
    },
}

pub(crate) fn run(url: &str, cmd: TokenCommand) -> anyhow::Result<Outcome> {
    with_store(url, |s| async move {
        match cmd {
            TokenCommand::Create {
                user,
                name,
                expires_days,
                json,
            } => {
                let u = s.resolve_user(&user).await?;
                let ttl = expires_days.map(|d| Duration::from_secs(d.saturating_mul(86_400)));
                let t = s.create_api_token(u.id, &name, ttl).await?;
                if json {
                    print_json(&json!({
                        "id": t.token.id,
                        "user_id": u.id,
                        "prefix": t.token.prefix,
                        "token": t.secret,
                        "expires_at": t.token.expires_at.map(fmt_time),
                    }))?;
                } else {
                    say!("{}", t.secret);
                    eprintln!(
                        "token {} for `{}` created; it is shown only this once",
                        t.token.id, u.username
                    );
                }
                Ok(Outcome::Yes)
            }
            TokenCommand::List { user, json } => {
                let uid = match user {
                    Some(u) => Some(s.resolve_user(&u).await?.id),
                    None => None,
                };
                let tokens = s.list_api_tokens(uid).await?;
                if json {
                    let list: Vec<_> = tokens
                        .iter()
                        .map(|t| {
                            json!({
                                "id": t.id,
                                "user_id": t.user_id,
                                "name": t.name,
                                "prefix": t.prefix,
                                "created_at": fmt_time(t.created_at),
                                "expires_at": t.expires_at.map(fmt_time),
                                "last_used_at": t.last_used_at.map(fmt_time),
                                "revoked_at": t.revoked_at.map(fmt_time),
                            })
                        })
                        .collect();
                    print_json(&serde_json::Value::Array(list))?;
                } else {
                    for t in &tokens {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        say!(
                            "{}\t{}\t{}…\t{}\t{}\t{}",
                            t.id,
                            t.user_id,
                            t.prefix,
                            t.name,
                            state,
                            t.expires_at.map_or_else(|| "never".to_owned(), fmt_time)
                        );
                    }
                }
                Ok(Outcome::Yes)
            }
            TokenCommand::Revoke { id } => {
                if s.revoke_api_token(id).await? {
                    say!("revoked token {id}");
                    Ok(Outcome::Yes)
                } else {
                    eprintln!("token {id} not found or already revoked");
                    Ok(Outcome::No)
                }
            }
        }
    })
}
