//! `portcullis acl check|who|lint`.

use crate::util::{example_policy, run};

fn blog() -> String {
    example_policy("blog.toml").display().to_string()
}

#[test]
fn check_allowed_by_a_child_acl_json() {
    let p = blog();
    let r = run(&[
        "acl",
        "check",
        "--policy",
        &p,
        "--path",
        "/blog/2024/hello",
        "--permission",
        "edit",
        "--principal",
        "system.Everyone",
        "--principal",
        "system.Authenticated",
        "--principal",
        "bob",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    assert_eq!(j["allowed"], true);
    assert_eq!(j["acl_path"], "/blog/2024");
    assert_eq!(j["ace_index"], 0);
    assert_eq!(j["ace"], serde_json::json!(["Allow", "bob", "edit"]));
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .starts_with("ACLAllowed permission \"edit\"")
    );
}

#[test]
fn check_denied_by_deny_all_exits_1() {
    let p = blog();
    let r = run(&[
        "acl",
        "check",
        "--policy",
        &p,
        "--path",
        "/blog",
        "--permission",
        "edit",
        "--principal",
        "system.Everyone",
        "--json",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    assert_eq!(j["allowed"], false);
    assert_eq!(j["acl_path"], "/");
    assert_eq!(j["ace_index"], 2);
    assert_eq!(
        j["ace"],
        serde_json::json!(["Deny", "system.Everyone", "ALL_PERMISSIONS"])
    );
}

#[test]
fn check_default_deny_has_null_location() {
    let p = example_policy("simpleauth.toml").display().to_string();
    let r = run(&[
        "acl",
        "check",
        "--policy",
        &p,
        "--path",
        "/",
        "--permission",
        "topsecret",
        "--principal",
        "system.Everyone",
        "--principal",
        "basic",
        "--json",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    assert_eq!(j["acl_path"], serde_json::Value::Null);
    assert_eq!(j["ace_index"], serde_json::Value::Null);
    assert_eq!(j["ace"], serde_json::Value::Null);
    assert!(j["message"].as_str().unwrap().contains("<default deny>"));
}

#[test]
fn check_text_output() {
    let p = blog();
    let r = run(&[
        "acl",
        "check",
        "--policy",
        &p,
        "--path",
        "/x",
        "--permission",
        "view",
        "--principal",
        "system.Everyone",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("allowed\nACLAllowed"), "{r:?}");
}

#[test]
fn who_lists_principals() {
    let p = blog();
    let r = run(&[
        "acl",
        "who",
        "--policy",
        &p,
        "--path",
        "/blog/2024",
        "--permission",
        "edit",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json(), serde_json::json!(["bob", "group:editors"]));
    let r = run(&[
        "acl",
        "who",
        "--policy",
        &p,
        "--path",
        "/",
        "--permission",
        "view",
    ]);
    assert_eq!(r.stdout, "system.Everyone\n");
}

#[test]
fn lint_reports_findings_and_exits_1() {
    let p = example_policy("lint-me.toml").display().to_string();
    let r = run(&[
        "acl",
        "lint",
        "--policy",
        &p,
        "--require",
        "view",
        "--require",
        "edit",
        "--json",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let kinds: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["never_required", "duplicate", "shadowed", "after_deny_all"]
    );
    let clean = blog();
    let r = run(&["acl", "lint", "--policy", &clean]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn bad_policy_files_name_file_line_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(
        &f,
        "[[resource]]\npath = \"/\"\nacl = [[\"Permit\", \"bob\", \"view\"]]\n",
    )
    .unwrap();
    let fs = f.display().to_string();
    let r = run(&[
        "acl",
        "check",
        "--policy",
        &fs,
        "--path",
        "/",
        "--permission",
        "view",
        "--principal",
        "bob",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("bad.toml:3:9"), "{r:?}");
    assert!(r.stderr.contains("`Permit`"), "{r:?}");

    std::fs::write(&f, "this is = = not toml").unwrap();
    let r = run(&["acl", "lint", "--policy", &fs]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("bad.toml:1:"), "{r:?}");

    let r = run(&[
        "acl",
        "who",
        "--policy",
        "/nonexistent/p.toml",
        "--path",
        "/",
        "--permission",
        "x",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("cannot read policy file `/nonexistent/p.toml`"),
        "{r:?}"
    );
    assert!(!r.stderr.contains("panicked"));
}

#[test]
fn bad_arguments_exit_2() {
    let p = blog();
    let r = run(&[
        "acl",
        "check",
        "--policy",
        &p,
        "--path",
        "relative",
        "--permission",
        "view",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = run(&["acl", "check", "--policy", &p]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = run(&["acl", "frobnicate"]);
    assert_eq!(r.code, 2, "{r:?}");
}
