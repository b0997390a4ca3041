//! `portcullis group add|list|delete`, `member add|remove`, `permission grant|revoke|list`.

use clap::Subcommand;
use serde_json::json;

use super::{fmt_time, print_json, with_store};
use crate::Outcome;

/// Manage groups.
#[derive(Debug, Subcommand)]
pub(crate) enum GroupCommand {
    /// Create a group.
    Add {
        /// The group name (principal `group:NAME`).
        name: String,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List groups.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a group with its memberships and permissions (exit 1 if there is none).
    Delete {
        /// The group name.
        name: String,
    },
}

/// Manage group memberships.
#[derive(Debug, Subcommand)]
pub(crate) enum MemberCommand {
    /// Add USER (id, username or e-mail) to GROUP.
    Add {
        /// Id, username or e-mail.
        user: String,
        /// The group name.
        group: String,
    },
    /// Remove USER from GROUP (exit 1 if not a member).
    Remove {
        /// Id, username or e-mail.
        user: String,
        /// The group name.
        group: String,
    },
}

/// Manage the permissions of groups.
#[derive(Debug, Subcommand)]
pub(crate) enum PermissionCommand {
    /// Grant PERMISSION to GROUP.
    Grant {
        /// The group name.
        group: String,
        /// The permission name.
        permission: String,
    },
    /// Revoke PERMISSION from GROUP (exit 1 if it was not granted).
    Revoke {
        /// The group name.
        group: String,
        /// The permission name.
        permission: String,
    },
    /// List the permissions of GROUP.
    List {
        /// The group name.
        group: String,
        /// Print JSON (a list of strings).
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run_group(url: &str, cmd: GroupCommand) -> anyhow::Result<Outcome> {
    with_store(url, |s| async move {
        match cmd {
            GroupCommand::Add { name, description } => {
                let g = s.create_group(&name, &description).await?;
                say!("created group {} `{}`", g.id, g.name);
                Ok(Outcome::Yes)
            }
            GroupCommand::List { json } => {
                let groups = s.list_groups().await?;
                if json {
                    let list: Vec<_> = groups
                        .iter()
                        .map(|g| {
                            json!({
                                "id": g.id,
                                "name": g.name,
                                "description": g.description,
                                "created_at": fmt_time(g.created_at),
                            })
                        })
                        .collect();
                    print_json(&serde_json::Value::Array(list))?;
                } else {
                    for g in &groups {
                        say!("{}\t{}\t{}", g.id, g.name, g.description);
                    }
                }
                Ok(Outcome::Yes)
            }
            GroupCommand::Delete { name } => {
                if s.delete_group(&name).await? {
                    say!("deleted group `{name}`");
                    Ok(Outcome::Yes)
                } else {
                    eprintln!("group `{name}` not found");
                    Ok(Outcome::No)
                }
            }
        }
    })
}

pub(crate) fn run_member(url: &str, cmd: MemberCommand) -> anyhow::Result<Outcome> {
    with_store(url, |s| async move {
        match cmd {
            MemberCommand::Add { user, group } => {
                let u = s.resolve_user(&user).await?;
                if s.add_member(u.id, &group).await? {
                    say!("added `{}` to `{group}`", u.username);
                } else {
                    say!("`{}` already is a member of `{group}`", u.username);
                }
                Ok(Outcome::Yes)
            }
            MemberCommand::Remove { user, group } => {
                let u = s.resolve_user(&user).await?;
                if s.remove_member(u.id, &group).await? {
                    say!("removed `{}` from `{group}`", u.username);
                    Ok(Outcome::Yes)
                } else {
                    eprintln!("`{}` is not a member of `{group}`", u.username);
                    Ok(Outcome::No)
                }
            }
        }
    })
}

pub(crate) fn run_permission(url: &str, cmd: PermissionCommand) -> anyhow::Result<Outcome> {
    with_store(url, |s| async move {
        match cmd {
            PermissionCommand::Grant { group, permission } => {
                if s.grant_permission(&group, &permission).await? {
                    say!("granted `{permission}` to `{group}`");
                } else {
                    say!("`{group}` already has `{permission}`");
                }
                Ok(Outcome::Yes)
            }
            PermissionCommand::Revoke { group, permission } => {
                if s.revoke_permission(&group, &permission).await? {
                    say!("revoked `{permission}` from `{group}`");
                    Ok(Outcome::Yes)
                } else {
                    eprintln!("`{group}` does not have `{permission}`");
                    Ok(Outcome::No)
                }
            }
            PermissionCommand::List { group, json } => {
                let perms = s.group_permissions(&group).await?;
                if json {
                    print_json(&json!(perms))?;
                } else {
                    for p in &perms {
                        say!("{p}");
                    }
                }
                Ok(Outcome::Yes)
            }
        }
    })
}
