//! `portcullis user add|list|show|passwd|block|unblock|delete`.

use anyhow::bail;
use clap::{Args, Subcommand};
use portcullis_store::{NewUser, StoreError, UserQuery, UserStatus};

use super::{fmt_time, print_json, read_new_password, user_json, with_store};
use crate::Outcome;

/// Manage users of the identity store.
#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user; the password is prompted for (or read from standard input).
    Add(AddArgs),
    /// List users (ordered by id).
    List(ListArgs),
    /// Show one user (by id, username or e-mail) with its groups.
    Show {
        /// Id, username or e-mail.
        user: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (prompted for, or read from standard input).
    Passwd {
        /// Id, username or e-mail.
        user: String,
    },
    /// Block a user: logins fail and its sessions authenticate nobody.
    Block {
        /// Id, username or e-mail.
        user: String,
    },
    /// Unblock a user (status active, failed-login counter reset).
    Unblock {
        /// Id, username or e-mail.
        user: String,
    },
    /// Delete a user with its memberships, tokens and tags (exit 1 if there is none).
    Delete {
        /// Id, username or e-mail.
        user: String,
    },
}

/// Arguments of `user add`.
#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The login name.
    username: String,
    /// E-mail address (unique, ignoring case).
    #[arg(long)]
    email: String,
    /// First name.
    #[arg(long, default_value = "")]
    first_name: String,
    /// Last name.
    #[arg(long, default_value = "")]
    last_name: String,
    /// Add to this (existing) group; repeatable.
    #[arg(long = "group", value_name = "GROUP")]
    groups: Vec<String>,
    /// Create the account without a password (SSO-only, or set later with `user passwd`).
    #[arg(long)]
    no_password: bool,
    /// Create the account as `pending` (unverified) instead of `active`.
    #[arg(long)]
    pending: bool,
}

/// Arguments of `user list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Case-insensitive substring of username, e-mail or name.
    #[arg(long)]
    search: Option<String>,
    /// Only members of this group.
    #[arg(long)]
    group: Option<String>,
    /// Only users with this status (active, pending, blocked).
    #[arg(long)]
    status: Option<String>,
    /// Users with an id above this one (paging).
    #[arg(long, default_value_t = 0)]
    after: i64,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Print JSON (a list of objects).
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(url: &str, cmd: UserCommand) -> anyhow::Result<Outcome> {
    with_store(url, |s| async move {
        match cmd {
            UserCommand::Add(a) => {
                for g in &a.groups {
                    if s.get_group(g).await?.is_none() {
                        bail!("group `{g}` not found (create it with `portcullis group add`)");
                    }
                }
                let mut new = NewUser::new(&a.username)
                    .email(&a.email)
                    .name(&a.first_name, &a.last_name);
                if a.pending {
                    new = new.status(UserStatus::Pending);
                }
                if !a.no_password {
                    let pw = read_new_password()?;
                    new = new.password(pw.as_str());
                }
                let user = s.create_user(new).await?;
                for g in &a.groups {
                    s.add_member(user.id, g).await?;
                }
                say!("created user {} `{}`", user.id, user.username);
                Ok(Outcome::Yes)
            }
            UserCommand::List(a) => {
                let status = match a.status.as_deref() {
                    None => None,
                    Some(st) => Some(UserStatus::parse(st).ok_or_else(|| {
                        anyhow::anyhow!("unknown status `{st}` (active, pending or blocked)")
                    })?),
                };
                let users = s
                    .list_users(&UserQuery {
                        search: a.search,
                        status,
                        group: a.group,
                        after_id: a.after,
                        limit: Some(a.limit),
                    })
                    .await?;
                if a.json {
                    let list: Vec<_> = users.iter().map(|u| user_json(u, None)).collect();
                    print_json(&serde_json::Value::Array(list))?;
                } else {
                    for u in &users {
                        say!(
                            "{}\t{}\t{}\t{}",
                            u.id,
                            u.username,
                            u.email.as_deref().unwrap_or("-"),
                            u.status
                        );
                    }
                }
                Ok(Outcome::Yes)
            }
            UserCommand::Show { user, json } => {
                let u = s.resolve_user(&user).await?;
                let groups: Vec<String> = s
                    .groups_of(u.id)
                    .await?
                    .into_iter()
                    .map(|g| g.name)
                    .collect();
                if json {
                    print_json(&user_json(&u, Some(&groups)))?;
                } else {
                    say!("id:            {}", u.id);
                    say!("username:      {}", u.username);
                    say!("email:         {}", u.email.as_deref().unwrap_or("-"));
                    say!("name:          {} {}", u.first_name, u.last_name);
                    say!("status:        {}", u.status);
                    say!(
                        "password:      {}",
                        if u.password_hash.is_some() {
                            "set"
                        } else {
                            "none"
                        }
                    );
                    say!("failed logins: {}", u.failed_logins);
                    say!("created:       {}", fmt_time(u.created_at));
                    say!(
                        "last login:    {}",
                        u.last_login_at.map_or_else(|| "never".to_owned(), fmt_time)
                    );
                    say!("groups:        {}", groups.join(", "));
                }
                Ok(Outcome::Yes)
            }
            UserCommand::Passwd { user } => {
                let u = s.resolve_user(&user).await?;
                let pw = read_new_password()?;
                s.set_password(u.id, &pw).await?;
                say!("password of `{}` changed", u.username);
                Ok(Outcome::Yes)
            }
            UserCommand::Block { user } => {
                let u = s.resolve_user(&user).await?;
                s.block_user(u.id).await?;
                say!("blocked `{}`", u.username);
                Ok(Outcome::Yes)
            }
            UserCommand::Unblock { user } => {
                let u = s.resolve_user(&user).await?;
                s.unblock_user(u.id).await?;
                say!("unblocked `{}`", u.username);
                Ok(Outcome::Yes)
            }
            UserCommand::Delete { user } => match s.resolve_user(&user).await {
                Ok(u) => {
                    s.delete_user(u.id).await?;
                    say!("deleted user {} `{}`", u.id, u.username);
                    Ok(Outcome::Yes)
                }
                Err(StoreError::NotFound { what }) => {
                    eprintln!("{what} not found");
                    Ok(Outcome::No)
                }
                Err(e) => Err(e.into()),
            },
        }
    })
}
