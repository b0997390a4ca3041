//! The `portcullis` command line.
//!
//! Exit codes (stable, documented in README.md):
//! - `0`: success (allowed, predicate met, hash matches, ...)
//! - `1`: a negative answer (denied, not met, mismatch, lint findings, invalid ticket)
//! - `2`: bad input or an operational error (unreadable file, bad expression, database error)
//!
//! The binary is thin: each subcommand group lives in its own module and calls the
//! library crates' public APIs; arguments are parsed by clap, validated, then run.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod acl;
mod password;
mod predicate;
mod ticket;

/// Portcullis: authentication and authorization for Rust web applications.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check, explain and lint ACLs of a policy file.
    #[command(subcommand)]
    Acl(acl::AclCommand),
    /// Evaluate a predicate expression against an identity.
    #[command(subcommand)]
    Predicate(predicate::PredicateCommand),
    /// Hash and verify passwords (argon2id; legacy Django, web2py, bcrypt hashes verified).
    #[command(subcommand)]
    Password(password::PasswordCommand),
    /// Issue and verify Pyramid-compatible auth tickets (auth_tkt cookies).
    #[command(subcommand)]
    Ticket(ticket::TicketCommand),
}

/// What a subcommand reports; `main` turns it into the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit 0.
    Yes,
    /// Exit 1: a well-formed negative answer.
    No,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Acl(cmd) => acl::run(cmd),
        Command::Predicate(cmd) => predicate::run(cmd),
        Command::Password(cmd) => password::run(cmd),
        Command::Ticket(cmd) => ticket::run(cmd),
    };
    match result {
        Ok(Outcome::Yes) => ExitCode::SUCCESS,
        Ok(Outcome::No) => ExitCode::from(1),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
