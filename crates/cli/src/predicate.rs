//! `portcullis predicate`: evaluate TurboGears-style predicates.
//!
//! ```text
//! portcullis predicate check --expr EXPR [--user U] [--group G ...] [--permission P ...] [--json]
//! ```
//!
//! Without `--user` the identity is anonymous. Exit codes: 0 met, 1 not met, 2 bad input
//! (the expression does not parse; the error gives its position). The expression syntax is
//! documented in `portcullis_authz::predicate`.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use portcullis_authz::identity::Identity;
use portcullis_authz::predicate::{Predicate, Verdict};
use serde::Serialize;

use crate::Outcome;

/// Evaluate predicate expressions.
#[derive(Debug, Subcommand)]
pub(crate) enum PredicateCommand {
    /// Check whether an identity meets a predicate expression.
    ///
    /// Exit status: 0 met, 1 not met, 2 bad expression.
    Check(CheckArgs),
}

/// The arguments of `predicate check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The predicate, e.g. `all(has_permission("release"), in_group("qa"), msg="Only QA may release")`.
    #[arg(long, value_name = "EXPR")]
    expr: String,
    /// The authenticated user id; without it the identity is anonymous.
    #[arg(long, value_name = "U")]
    user: Option<String>,
    /// A group of the identity (repeatable).
    #[arg(long = "group", value_name = "G")]
    groups: Vec<String>,
    /// A permission of the identity (repeatable).
    #[arg(long = "permission", value_name = "P")]
    permissions: Vec<String>,
    /// Print one JSON object: `{"passed": bool, "status": 200|401|403, "message": string|null}`.
    #[arg(long)]
    json: bool,
}

/// The `--json` output.
#[derive(Debug, Serialize)]
struct Report<'a> {
    passed: bool,
    status: u16,
    message: Option<&'a str>,
}

pub(crate) fn run(cmd: PredicateCommand) -> anyhow::Result<Outcome> {
    match cmd {
        PredicateCommand::Check(args) => {
            let (outcome, line) = check(args)?;
            println!("{line}");
            Ok(outcome)
        }
    }
}

/// Evaluates; returns the outcome and the line to print.
fn check(args: CheckArgs) -> anyhow::Result<(Outcome, String)> {
    let predicate: Predicate = args.expr.parse().context("invalid predicate expression")?;
    let identity = match args.user {
        Some(user) => Identity::user(user),
        None => Identity::anonymous(),
    }
    .with_groups(args.groups)
    .with_permissions(args.permissions);

    let verdict = predicate.evaluate(&identity);
    let line = if args.json {
        serde_json::to_string(&Report {
            passed: verdict.is_met(),
            status: verdict.status().code(),
            message: verdict.message(),
        })?
    } else {
        match &verdict {
            Verdict::Met => "passed".to_owned(),
            Verdict::NotMet(n) => format!("not met ({}): {}", n.status().code(), n.message()),
        }
    };
    let outcome = if verdict.is_met() {
        Outcome::Yes
    } else {
        Outcome::No
    };
    Ok((outcome, line))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: PredicateCommand,
    }

    fn check_with(argv: &[&str]) -> anyhow::Result<(Outcome, String)> {
        let cli = Cli::try_parse_from(["predicate"].iter().chain(argv))?;
        let PredicateCommand::Check(args) = cli.cmd;
        check(args)
    }

    const RELEASE: &str = r#"all(has_permission("release"), any(in_group("qa"), not(is_user("bob"))), msg="Only QA may release")"#;

    #[test]
    fn human_output() {
        let (o, line) = check_with(&[
            "check",
            "--expr",
            RELEASE,
            "--user",
            "alice",
            "--permission",
            "release",
        ])
        .unwrap();
        assert_eq!((o, line.as_str()), (Outcome::Yes, "passed"));
        let (o, line) = check_with(&[
            "check",
            "--expr",
            RELEASE,
            "--user",
            "bob",
            "--permission",
            "release",
        ])
        .unwrap();
        assert_eq!(
            (o, line.as_str()),
            (Outcome::No, "not met (403): Only QA may release")
        );
        let (o, line) = check_with(&["check", "--expr", "not_anonymous()"]).unwrap();
        assert_eq!(
            (o, line.as_str()),
            (
                Outcome::No,
                "not met (401): The current user must have been authenticated"
            )
        );
        let argv = [
            "check",
            "--expr",
            r#"in_all_groups("a", "b")"#,
            "--user",
            "u",
            "--group",
            "a",
            "--group",
            "b",
        ];
        assert_eq!(check_with(&argv).unwrap().0, Outcome::Yes);
    }

    #[test]
    fn json_output() {
        let json = |argv: &[&str]| -> serde_json::Value {
            let (_, line) = check_with(argv).unwrap();
            assert!(!line.contains('\n'));
            serde_json::from_str(&line).unwrap()
        };
        assert_eq!(
            json(&["check", "--json", "--expr", "is_anonymous()"]),
            serde_json::json!({"passed": true, "status": 200, "message": null})
        );
        assert_eq!(
            json(&[
                "check",
                "--json",
                "--expr",
                "is_anonymous()",
                "--user",
                "bob"
            ]),
            serde_json::json!({"passed": false, "status": 403, "message": "The current user must be anonymous"})
        );
        assert_eq!(
            json(&["check", "--json", "--expr", RELEASE]),
            serde_json::json!({"passed": false, "status": 401, "message": "Only QA may release"})
        );
        let (_, line) = check_with(&["check", "--json", "--expr", "is_anonymous()"]).unwrap();
        assert_eq!(line, r#"{"passed":true,"status":200,"message":null}"#);
    }

    #[test]
    fn bad_expressions_are_errors_with_positions() {
        let err =
            check_with(&["check", "--expr", r#"all(in_group("a") x)"#, "--json"]).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "invalid predicate expression: expected `,` or `)` at 1:19, found `x` (byte 18)"
        );
        assert!(check_with(&["check", "--expr", ""]).is_err());
        assert!(check_with(&["check"]).is_err());
    }
}
