//! Run with `cargo run -p portcullis-authz --example acl`.
//!
//! Loads the blog policy, checks a few requests with the explained and the compiled API, asks
//! who may edit, and lints the policy.

use portcullis_authz::lint::lint;
use portcullis_authz::{AUTHENTICATED, EVERYONE, ResourceTree};

const POLICY: &str = r#"
[[resource]]
path = "/"
acl = [["Allow", "system.Everyone", "view"],
       ["Allow", "group:editors", ["add", "edit"]],
       ["Deny", "system.Everyone", "ALL_PERMISSIONS"]]
[[resource]]
path = "/blog/2024"
acl = [["Allow", "bob", "edit"]]
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tree = ResourceTree::from_toml_str(POLICY)?;

    let bob = [EVERYONE, AUTHENTICATED, "bob"];
    let anonymous = [EVERYONE];
    for (who, principals) in [("bob", &bob[..]), ("anonymous", &anonymous[..])] {
        for (path, permission) in [
            ("/blog/2024/hello", "edit"),
            ("/blog/2023/old", "edit"),
            ("/", "view"),
        ] {
            let decision = tree.decide(path, permission, principals);
            println!(
                "{who:>9} {permission:<4} {path:<18} -> {}",
                if decision.allowed() {
                    "allowed"
                } else {
                    "denied"
                }
            );
            println!("          {}", decision.message());
        }
    }

    // The hot path: resolve once, check without allocating.
    let node = tree.locate("/blog/2024/hello");
    let edit = tree.permission("edit");
    let set = tree.principal_set(&bob);
    let check = tree.check(node, &edit, &set);
    println!(
        "compiled check: allowed={} ace_index={:?}",
        check.allowed(),
        check.ace_index()
    );

    println!(
        "who may edit /blog/2024: {:?}",
        tree.principals_allowed_by_permission("/blog/2024", "edit")
    );
    for finding in lint(&tree, Some(&["view", "edit"])) {
        println!("lint: {finding}");
    }
    Ok(())
}
