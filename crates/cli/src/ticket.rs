//! `portcullis ticket`: issue and verify Pyramid-compatible auth tickets.
//!
//! ```text
//! portcullis ticket issue  --secret S [--hashalg A] --userid U [--ip IP] [--time EPOCH]
//!                          [--token T ...] [--user-data D]
//! portcullis ticket verify --secret S [--hashalg A] [--ip IP] [--now EPOCH] [--timeout SECS]
//!                          [--json] TICKET
//! ```
//!
//! `issue` prints exactly what Pyramid's
//! `AuthTicket(secret, userid, ip, tokens, user_data, time, hashalg).cookie_value()` returns
//! (userid and user data written as given). `verify` checks a ticket like Pyramid's
//! `parse_ticket` (plus the timeout): exit 0 and the fields when valid, exit 1 and the
//! reason on stderr when not, exit 2 on bad arguments. The secret may come from
//! `PORTCULLIS_TICKET_SECRET` instead of `--secret`, which keeps it out of `ps`.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use portcullis_web::ticket::{
    AuthTicket, BadTicket, ClientIp, HashAlg, TicketSecret, parse_ticket,
};
use serde_json::json;

use crate::Outcome;

/// Issue and verify auth tickets (Pyramid `AuthTktCookieHelper` format).
#[derive(Debug, Subcommand)]
pub(crate) enum TicketCommand {
    /// Print the cookie value of a new ticket.
    Issue(IssueArgs),
    /// Check a ticket; exit status 0 valid, 1 invalid (reason on stderr), 2 bad arguments.
    Verify(VerifyArgs),
}

/// Options shared by `issue` and `verify`.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// The signing secret, used verbatim (as Pyramid's `secret`).
    #[arg(long, env = "PORTCULLIS_TICKET_SECRET", hide_env_values = true)]
    secret: String,
    /// Digest algorithm: md5, sha1, sha224, sha256, sha384 or sha512.
    #[arg(long, default_value = "sha512", value_name = "A")]
    hashalg: String,
    /// Client address bound into the ticket (`0.0.0.0`: not bound).
    #[arg(long, default_value = "0.0.0.0", value_name = "IP")]
    ip: String,
}

/// The arguments of `ticket issue`.
#[derive(Debug, Args)]
pub(crate) struct IssueArgs {
    #[command(flatten)]
    common: Common,
    /// The userid, written as given (percent-encoded in the ticket).
    #[arg(long, value_name = "U")]
    userid: String,
    /// Issue time in seconds since the epoch (default: now).
    #[arg(long, value_name = "EPOCH")]
    time: Option<u64>,
    /// A token (repeatable), joined with `,`.
    #[arg(long = "token", value_name = "T")]
    tokens: Vec<String>,
    /// User data, written as given.
    #[arg(long = "user-data", default_value = "", value_name = "D")]
    user_data: String,
}

/// The arguments of `ticket verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    common: Common,
    /// The time of the check in seconds since the epoch (default: now).
    #[arg(long, value_name = "EPOCH")]
    now: Option<u64>,
    /// Refuse tickets older than this many seconds (`timestamp + timeout < now`).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Print one JSON object: `{"valid": true, "timestamp", "userid", "tokens", "user_data"}`
    /// or `{"valid": false, "reason"}`.
    #[arg(long)]
    json: bool,
    /// The ticket (the cookie value; surrounding quotes are ignored).
    #[arg(value_name = "TICKET", allow_hyphen_values = true)]
    ticket: String,
}

struct Parsed {
    secret: TicketSecret,
    hashalg: HashAlg,
    ip: ClientIp,
}

impl Common {
    fn parse(&self) -> anyhow::Result<Parsed> {
        Ok(Parsed {
            secret: TicketSecret::verbatim(self.secret.as_bytes()).context("invalid `--secret`")?,
            hashalg: self.hashalg.parse().context("invalid `--hashalg`")?,
            ip: ClientIp::parse(&self.ip).context("invalid `--ip`")?,
        })
    }
}

fn now() -> anyhow::Result<u64> {
    Ok(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs())
}

pub(crate) fn run(cmd: TicketCommand) -> anyhow::Result<Outcome> {
    match cmd {
        TicketCommand::Issue(args) => {
            let p = args.common.parse()?;
            let tokens: Vec<&str> = args.tokens.iter().map(String::as_str).collect();
            let time = match args.time {
                Some(t) => t,
                None => now()?,
            };
            let ticket = AuthTicket {
                secret: &p.secret,
                userid: &args.userid,
                ip: &p.ip,
                tokens: &tokens,
                user_data: &args.user_data,
                time,
                hashalg: p.hashalg,
            };
            println!("{}", ticket.cookie_value());
            Ok(Outcome::Yes)
        }
        TicketCommand::Verify(args) => verify(&args),
    }
}

fn verify(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let p = args.common.parse()?;
    let now = match args.now {
        Some(t) => t,
        None => now()?,
    };
    let result = parse_ticket(&p.secret, &args.ticket, &p.ip, p.hashalg).and_then(|t| {
        match args.timeout.filter(|&s| s != 0) {
            Some(timeout) if u128::from(t.timestamp()) + u128::from(timeout) < u128::from(now) => {
                Err(BadTicket::Expired {
                    timestamp: t.timestamp(),
                    timeout,
                    now,
                })
            }
            _ => Ok(t),
        }
    });
    match result {
        Ok(t) => {
            let tokens: Vec<&str> = t.tokens().collect();
            if args.json {
                let out = json!({
                    "valid": true,
                    "timestamp": t.timestamp(),
                    "userid": t.userid(),
                    "tokens": tokens,
                    "user_data": t.user_data(),
                });
                println!("{out}");
            } else {
                println!("timestamp: {}", t.timestamp());
                println!("userid: {}", t.userid());
                println!("tokens: {}", tokens.join(","));
                println!("user_data: {}", t.user_data());
            }
            Ok(Outcome::Yes)
        }
        Err(reason) => {
            eprintln!("invalid ticket: {reason}");
            if args.json {
                println!("{}", json!({"valid": false, "reason": reason.to_string()}));
            }
            Ok(Outcome::No)
        }
    }
}
