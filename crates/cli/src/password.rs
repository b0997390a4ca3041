//! `portcullis password`: hash, verify and check passwords.
//!
//! ```text
//! portcullis password verify --hash HASH [--crypt-hmac-key KEY]   < password
//! portcullis password hash [--memory-kib M] [--iterations T] [--parallelism P] < password
//! portcullis password check-policy [--username U] [--email E] [--min-length N] < password
//! portcullis password identify --hash HASH
//! ```
//!
//! The password is read from standard input, never from the command line (where other
//! users could see it in the process list). Exactly one trailing `\n` or `\r\n` is
//! removed, so `echo secret | portcullis password hash` hashes `secret`; every other
//! byte, including leading or trailing spaces, is part of the password. The input must
//! be UTF-8.
//!
//! Exit codes: `verify` 0 match, 1 mismatch, 2 unknown, malformed or unsupported hash
//! (`error: ...`); `check-policy` 0 acceptable, 1 rejected (the rule is printed);
//! `hash` and `identify` 0, or 2 on error.

use std::io::{IsTerminal as _, Read as _};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use portcullis_store::password::{
    Argon2Params, PasswordConfig, PasswordPolicy, Verification, identify,
};
use zeroize::Zeroizing;

use crate::Outcome;

/// Hash and verify passwords (argon2id; legacy formats verified).
#[derive(Debug, Subcommand)]
pub(crate) enum PasswordCommand {
    /// Check the password on standard input against a stored hash of any supported format.
    ///
    /// Prints `match (FORMAT)`, `match (FORMAT, needs rehash)` or `mismatch`.
    /// Exit status: 0 match, 1 mismatch, 2 unknown or malformed hash.
    Verify(VerifyArgs),
    /// Hash the password on standard input with argon2id and print the PHC string.
    Hash(HashArgs),
    /// Check the password on standard input against the password policy.
    ///
    /// Exit status: 0 acceptable, 1 rejected (the failed rule is printed).
    CheckPolicy(PolicyArgs),
    /// Print the format of a stored hash (e.g. `django-pbkdf2-sha256`).
    ///
    /// Exit status: 0 recognized, 2 unknown or malformed.
    Identify(IdentifyArgs),
}

/// The arguments of `password verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The stored hash, e.g. `$argon2id$v=19$...`, `pbkdf2_sha256$...`, `sha512$salt$hex`.
    #[arg(long, value_name = "HASH")]
    hash: String,
    /// pydal/web2py `CRYPT(key=...)` HMAC key (the part after `alg:`), for hashes made
    /// with a key.
    #[arg(
        long,
        value_name = "KEY",
        env = "PORTCULLIS_CRYPT_HMAC_KEY",
        hide_env_values = true
    )]
    crypt_hmac_key: Option<String>,
}

/// The arguments of `password hash`.
#[derive(Debug, Args)]
pub(crate) struct HashArgs {
    /// argon2id memory in KiB.
    #[arg(long, value_name = "KIB", default_value_t = Argon2Params::OWASP.memory_kib())]
    memory_kib: u32,
    /// argon2id passes.
    #[arg(long, value_name = "T", default_value_t = Argon2Params::OWASP.iterations())]
    iterations: u32,
    /// argon2id lanes.
    #[arg(long, value_name = "P", default_value_t = Argon2Params::OWASP.parallelism())]
    parallelism: u32,
}

/// The arguments of `password check-policy`.
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    /// The username (the password must differ from it).
    #[arg(long, value_name = "U")]
    username: Option<String>,
    /// The e-mail address (the password must differ from it and its local part).
    #[arg(long, value_name = "E")]
    email: Option<String>,
    /// Minimum length in characters.
    #[arg(long, value_name = "N", default_value_t = PasswordPolicy::DEFAULT_MIN_CHARS)]
    min_length: usize,
}

/// The arguments of `password identify`.
#[derive(Debug, Args)]
pub(crate) struct IdentifyArgs {
    /// The stored hash.
    #[arg(long, value_name = "HASH")]
    hash: String,
}

pub(crate) fn run(cmd: PasswordCommand) -> anyhow::Result<Outcome> {
    match cmd {
        PasswordCommand::Verify(args) => verify(args),
        PasswordCommand::Hash(args) => hash(args),
        PasswordCommand::CheckPolicy(args) => check_policy(args),
        PasswordCommand::Identify(args) => {
            println!("{}", identify(&args.hash)?);
            Ok(Outcome::Yes)
        }
    }
}

fn verify(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let mut config = PasswordConfig::default();
    if let Some(key) = args.crypt_hmac_key {
        config = config.with_crypt_hmac_key(key);
    }
    // Check the hash before asking for the password, so a bad hash fails fast.
    identify(&args.hash)?;
    let password = read_password()?;
    match config.verify(&password, &args.hash)? {
        Verification::Match(proof) => {
            if proof.needs_rehash() {
                println!("match ({}, needs rehash)", proof.format());
            } else {
                println!("match ({})", proof.format());
            }
            Ok(Outcome::Yes)
        }
        Verification::Mismatch => {
            println!("mismatch");
            Ok(Outcome::No)
        }
    }
}

fn hash(args: HashArgs) -> anyhow::Result<Outcome> {
    let params = Argon2Params::new(args.memory_kib, args.iterations, args.parallelism)?;
    let password = read_password()?;
    let hash = PasswordConfig::new(params).hash(&password)?;
    println!("{}", hash.as_str());
    Ok(Outcome::Yes)
}

fn check_policy(args: PolicyArgs) -> anyhow::Result<Outcome> {
    if args.min_length == 0 {
        bail!("`--min-length` must be at least 1");
    }
    let policy = PasswordPolicy::new().min_chars(args.min_length);
    let password = read_password()?;
    let context: Vec<&str> = [args.username.as_deref(), args.email.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    match policy.check(&password, &context) {
        Ok(()) => {
            println!("ok");
            Ok(Outcome::Yes)
        }
        Err(violation) => {
            println!("rejected: {violation}");
            Ok(Outcome::No)
        }
    }
}

/// Reads the password from standard input, minus one trailing `\n` or `\r\n`.
fn read_password() -> anyhow::Result<Zeroizing<String>> {
    let mut stdin = std::io::stdin().lock();
    if stdin.is_terminal() {
        eprintln!("password (then Enter and Ctrl-D):");
    }
    let mut buf = Zeroizing::new(Vec::new());
    stdin
        .read_to_end(&mut buf)
        .context("cannot read the password from standard input")?;
    strip_one_newline(&mut buf);
    let text = std::str::from_utf8(&buf)
        .map_err(|_| anyhow::anyhow!("the password on standard input is not valid UTF-8"))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Removes exactly one trailing `\n` or `\r\n`.
fn strip_one_newline(buf: &mut Vec<u8>) {
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::strip_one_newline;

    #[test]
    fn exactly_one_line_ending_is_stripped() {
        for (input, expected) in [
            (&b"secret\n"[..], &b"secret"[..]),
            (b"secret\r\n", b"secret"),
            (b"secret\n\n", b"secret\n"),
            (b"secret\r\n\r\n", b"secret\r\n"),
            (b"secret", b"secret"),
            (b" secret \n", b" secret "),
            (b"secret\r", b"secret\r"),
            (b"\n", b""),
            (b"", b""),
        ] {
            let mut buf = input.to_vec();
            strip_one_newline(&mut buf);
            assert_eq!(buf, expected, "{input:?}");
        }
    }
}
