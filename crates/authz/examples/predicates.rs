//! Run with `cargo run -p portcullis-authz --example predicates [MONTH]`.
//!
//! TurboGears' Ubuntu release rule: "Anyone granted the 'release' permission may release a
//! version of Ubuntu, if and only if it's April or October", written as text with a custom
//! `is_month` predicate, and evaluated for a few identities. The month is an argument (default
//! 4), never read from a clock inside the predicate.

use std::sync::Arc;

use portcullis_authz::identity::Identity;
use portcullis_authz::predicate::{CustomPredicate, Parser, Verdict};

/// "The current month must be %(right_month)s"
#[derive(Debug)]
struct IsMonth {
    right_month: u8,
    current_month: u8,
}

impl CustomPredicate for IsMonth {
    fn name(&self) -> &str {
        "is_month"
    }
    fn arguments(&self) -> Vec<String> {
        vec![self.right_month.to_string()]
    }
    fn message(&self) -> &str {
        "The current month must be {right_month}"
    }
    fn placeholder(&self, name: &str) -> Option<String> {
        (name == "right_month").then(|| self.right_month.to_string())
    }
    fn is_met(&self, _identity: &Identity) -> bool {
        self.current_month == self.right_month
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let current_month: u8 = match std::env::args().nth(1) {
        Some(m) => m.parse()?,
        None => 4,
    };
    let parser = Parser::new().custom("is_month", move |args: &[String]| match args {
        [m] => match m.parse::<u8>() {
            Ok(right_month @ 1..=12) => Ok(Arc::new(IsMonth {
                right_month,
                current_month,
            }) as Arc<dyn CustomPredicate>),
            _ => Err(format!("`{m}` is not a month")),
        },
        _ => Err(format!("takes exactly one month, found {}", args.len())),
    });

    let rule = parser.parse(
        r#"all(has_permission("release"),
               any(is_month("4"), is_month("10")))"#,
    )?;
    println!("rule: {rule}");
    println!("month: {current_month}");

    let identities = [
        ("anonymous", Identity::anonymous()),
        ("bob (no permission)", Identity::user("bob")),
        (
            "mark (release)",
            Identity::user("mark").with_permissions(["release"]),
        ),
    ];
    for (who, identity) in &identities {
        match rule.evaluate(identity) {
            Verdict::Met => println!("{who}: passed"),
            Verdict::NotMet(n) => {
                println!("{who}: not met ({}): {}", n.status().code(), n.message());
            }
        }
    }

    // A bad expression explains itself.
    if let Err(e) = parser.parse(r#"all(has_permission("release") is_month("4"))"#) {
        println!("bad rule: {e}");
    }
    Ok(())
}
