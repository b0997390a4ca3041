//! `portcullis acl`: check, explain and lint the ACLs of a policy file.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use portcullis_authz::{Ace, Permissions, ResourceTree, lint};
use serde_json::{Value, json};

use crate::Outcome;

/// `portcullis acl ...`
#[derive(Debug, Subcommand)]
pub(crate) enum AclCommand {
    /// May these principals exercise PERMISSION at PATH? Exit 0 allowed, 1 denied, 2 bad input.
    ///
    /// Principals are taken exactly as given: add `system.Everyone` (and
    /// `system.Authenticated` for a logged-in user) as a real request would have them.
    Check(CheckArgs),
    /// Which principals hold PERMISSION at PATH (Pyramid's principals_allowed_by_permission).
    Who(WhoArgs),
    /// Report entries that can never take effect, duplicates, and grants nobody requires.
    /// Exit 1 when there are findings.
    Lint(LintArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PolicyArg {
    /// The TOML policy file.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    policy: PolicyArg,
    /// The context resource's path, e.g. `/blog/2024/hello`.
    #[arg(long, value_name = "P")]
    path: String,
    /// The permission asked for.
    #[arg(long, value_name = "NAME")]
    permission: String,
    /// An effective principal of the request (repeatable).
    #[arg(long = "principal", value_name = "X")]
    principals: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct WhoArgs {
    #[command(flatten)]
    policy: PolicyArg,
    /// The context resource's path.
    #[arg(long, value_name = "P")]
    path: String,
    /// The permission.
    #[arg(long, value_name = "NAME")]
    permission: String,
    /// Print a JSON list of strings.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    #[command(flatten)]
    policy: PolicyArg,
    /// A permission some route requires (repeatable); with it, grants of other permissions
    /// are reported.
    #[arg(long = "require", value_name = "PERM")]
    required: Vec<String>,
    /// Print a JSON list of findings.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cmd: AclCommand) -> anyhow::Result<Outcome> {
    match cmd {
        AclCommand::Check(a) => check(a),
        AclCommand::Who(a) => who(a),
        AclCommand::Lint(a) => lint_cmd(a),
    }
}

/// Reads and compiles a policy file; errors name the file, line and column.
pub(crate) fn load_policy(path: &Path) -> anyhow::Result<ResourceTree> {
    let src = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read policy file `{}`", path.display()))?;
    ResourceTree::from_toml_str(&src)
        .map_err(|e| anyhow::anyhow!(e.in_file(path.display().to_string())))
}

fn check_path_arg(path: &str) -> anyhow::Result<()> {
    if !path.starts_with('/') {
        anyhow::bail!("--path `{path}` must start with `/`");
    }
    if path.chars().any(char::is_control) {
        anyhow::bail!("--path contains a control character");
    }
    Ok(())
}

/// An ACE in the policy file's own form: `["Allow", "bob", "edit"]`.
pub(crate) fn ace_json(ace: &Ace) -> Value {
    let perms = match &ace.permissions {
        Permissions::All => json!(portcullis_authz::ALL_PERMISSIONS),
        Permissions::One(p) => json!(p),
        Permissions::Many(ps) => json!(ps),
    };
    json!([ace.action.as_str(), ace.principal, perms])
}

fn check(a: CheckArgs) -> anyhow::Result<Outcome> {
    check_path_arg(&a.path)?;
    if a.permission.is_empty() {
        anyhow::bail!("--permission must not be empty");
    }
    let tree = load_policy(&a.policy.policy)?;
    let d = tree.decide(&a.path, &a.permission, &a.principals);
    if a.json {
        let out = json!({
            "allowed": d.allowed(),
            "acl_path": d.acl_location(),
            "ace_index": d.ace_index(),
            "ace": d.ace().map(ace_json),
            "message": d.message(),
            "permission": d.permission(),
            "context": d.context(),
            "principals": d.principals(),
        });
        println!("{out}");
    } else {
        println!("{}", if d.allowed() { "allowed" } else { "denied" });
        println!("{}", d.message());
    }
    Ok(if d.allowed() {
        Outcome::Yes
    } else {
        Outcome::No
    })
}

fn who(a: WhoArgs) -> anyhow::Result<Outcome> {
    check_path_arg(&a.path)?;
    let tree = load_policy(&a.policy.policy)?;
    let who = tree.principals_allowed_by_permission(&a.path, &a.permission);
    if a.json {
        println!("{}", json!(who));
    } else {
        for p in &who {
            println!("{p}");
        }
    }
    Ok(Outcome::Yes)
}

fn lint_cmd(a: LintArgs) -> anyhow::Result<Outcome> {
    let tree = load_policy(&a.policy.policy)?;
    let required: Vec<&str> = a.required.iter().map(String::as_str).collect();
    let findings = lint::lint(&tree, (!required.is_empty()).then_some(&required[..]));
    if a.json {
        let list: Vec<Value> = findings
            .iter()
            .map(|f| {
                json!({
                    "path": f.path,
                    "ace_index": f.ace_index,
                    "ace": ace_json(&f.ace),
                    "kind": match &f.kind {
                        lint::FindingKind::AfterDenyAll { .. } => "after_deny_all",
                        lint::FindingKind::Duplicate { .. } => "duplicate",
                        lint::FindingKind::Shadowed { .. } => "shadowed",
                        lint::FindingKind::NeverRequired { .. } => "never_required",
                    },
                    "message": f.to_string(),
                })
            })
            .collect();
        println!("{}", Value::Array(list));
    } else {
        for f in &findings {
            println!("{f}");
        }
        if findings.is_empty() {
            eprintln!("no findings");
        }
    }
    Ok(if findings.is_empty() {
        Outcome::Yes
    } else {
        Outcome::No
    })
}
