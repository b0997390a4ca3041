//! `portcullis init`: creates the first administrator.
//!
//! ```text
//! portcullis init [--username admin] [--email ADDRESS] [--group admin]
//! ```
//!
//! Creates the group (when missing), grants it the permission `admin` (which the portal's
//! admin UI and API need), and a user in it with a random password, printed once
//! on standard output (only its argon2id hash is stored): change it after the first login
//! (`POST /auth/api/change_password`, or `portcullis user passwd`). Everything created is
//! reported; nothing happens when the group already has a member (exit 1: already
//! initialised).

use anyhow::{Context as _, bail};
use clap::Args;
use portcullis_store::NewUser;

use crate::Outcome;
use crate::store_cmd::with_store;

/// The arguments of `portcullis init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The administrator's username.
    #[arg(long, default_value = "admin")]
    username: String,
    /// The administrator's e-mail address.
    #[arg(long, value_name = "ADDRESS")]
    email: Option<String>,
    /// The administrators' group.
    #[arg(long, default_value = "admin")]
    group: String,
}

/// The permission the portal's administration needs (`portcullis-portal`'s admin API
/// and UI).
const ADMIN_PERMISSION: &str = "admin";

const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/// A random password of 20 characters from a 57-character alphabet (about 116 bits).
fn random_password() -> anyhow::Result<String> {
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut buf = [0u8; 32];
        getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        for b in buf {
            // Rejection sampling keeps the choice uniform.
            let limit = 256 - 256 % ALPHABET.len();
            if usize::from(b) < limit && out.len() < 20 {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

pub(crate) fn run(database: &str, args: InitArgs) -> anyhow::Result<Outcome> {
    with_store(database, |store| async move {
        if let Some(group) = store.get_group(&args.group).await? {
            let members = store.members_of(&group.name).await?;
            if !members.is_empty() {
                eprintln!(
                    "already initialised: group `{}` has {} member(s); nothing created",
                    args.group,
                    members.len()
                );
                return Ok(Outcome::No);
            }
        } else {
            store
                .create_group(&args.group, "administrators")
                .await
                .with_context(|| format!("cannot create group `{}`", args.group))?;
            eprintln!("created group `{}`", args.group);
        }
        // The admin UI and API (/auth/admin/, /auth/api/admin/) need this permission.
        if store
            .grant_permission(&args.group, ADMIN_PERMISSION)
            .await?
        {
            eprintln!(
                "granted permission `{ADMIN_PERMISSION}` to group `{}`",
                args.group
            );
        }
        if store.get_user_by_username(&args.username).await?.is_some() {
            bail!(
                "user `{}` already exists: choose another `--username`",
                args.username
            );
        }
        let password = zeroize::Zeroizing::new(random_password()?);
        let mut new = NewUser::new(args.username.clone()).password(password.as_str());
        if let Some(email) = &args.email {
            new = new.email(email.clone());
        }
        let user = store
            .create_user(new)
            .await
            .with_context(|| format!("cannot create user `{}`", args.username))?;
        store.add_member(user.id, &args.group).await?;
        eprintln!(
            "created administrator `{}` (id {}) in group `{}`",
            user.username, user.id, args.group
        );
        eprintln!(
            "its one-time password follows; it is shown only now: change it after the first login"
        );
        println!("{}", password.as_str());
        Ok(Outcome::Yes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_differ() {
        let a = random_password().unwrap();
        let b = random_password().unwrap();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
    }
}
