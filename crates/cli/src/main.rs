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
mod init;
mod openapi;
mod password;
mod predicate;
mod serve;
mod store_cmd;
mod ticket;

/// Portcullis: authentication and authorization for Rust web applications.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about, propagate_version = true)]
struct Cli {
    /// Identity store URL: `sqlite://PATH` (created if missing), `sqlite::memory:`,
    /// `postgres://USER@HOST/DB`.
    #[arg(
        long,
        global = true,
        env = "PORTCULLIS_DATABASE_URL",
        default_value = "sqlite://portcullis.sqlite",
        value_name = "URL",
        hide_env_values = true
    )]
    database: String,
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
    /// Create or upgrade the identity store's schema.
    Migrate,
    /// Manage users of the identity store.
    #[command(subcommand)]
    User(store_cmd::user::UserCommand),
    /// Manage groups.
    #[command(subcommand)]
    Group(store_cmd::group::GroupCommand),
    /// Add users to groups and remove them.
    #[command(subcommand)]
    Member(store_cmd::group::MemberCommand),
    /// Grant and revoke group permissions.
    #[command(subcommand)]
    Permission(store_cmd::group::PermissionCommand),
    /// Hierarchical tags on records (py4web `Tags`).
    #[command(subcommand)]
    Tag(store_cmd::tag::TagCommand),
    /// Create, list and revoke API tokens.
    #[command(subcommand)]
    Token(store_cmd::token::TokenCommand),
    /// Import users with existing password hashes (CSV, JSON, JSON lines).
    Import(store_cmd::import::ImportArgs),
    /// Print a user's principals, one per line (exit 1: no such user, or blocked).
    Principals {
        /// Id, username or e-mail.
        user: String,
    },
    /// Run the HTTP server (`--demo`: the seed 000 "simpleauth" application).
    Serve(serve::ServeArgs),
    /// Create the first administrator (prints a one-time password).
    Init(init::InitArgs),
    /// Print the OpenAPI 3.1 document of the portal's REST and admin API.
    Openapi(openapi::OpenapiArgs),
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
        Command::Migrate => store_cmd::migrate(&cli.database),
        Command::User(cmd) => store_cmd::user::run(&cli.database, cmd),
        Command::Group(cmd) => store_cmd::group::run_group(&cli.database, cmd),
        Command::Member(cmd) => store_cmd::group::run_member(&cli.database, cmd),
        Command::Permission(cmd) => store_cmd::group::run_permission(&cli.database, cmd),
        Command::Tag(cmd) => store_cmd::tag::run(&cli.database, cmd),
        Command::Token(cmd) => store_cmd::token::run(&cli.database, cmd),
        Command::Import(args) => store_cmd::import::run(&cli.database, args),
        Command::Principals { user } => store_cmd::principals(&cli.database, user),
        Command::Serve(args) => serve::run(&cli.database, args),
        Command::Init(args) => init::run(&cli.database, args),
        Command::Openapi(args) => openapi::run(args),
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
