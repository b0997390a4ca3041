//! `portcullis predicate check`.

use crate::util::run;

const EXPR: &str = r#"all(has_permission("release"), any(in_group("qa"), not(is_user("bob"))), msg="Only QA may release")"#;

#[test]
fn met_not_met_and_anonymous() {
    let r = run(&[
        "predicate",
        "check",
        "--expr",
        EXPR,
        "--user",
        "alice",
        "--group",
        "qa",
        "--permission",
        "release",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.json(),
        serde_json::json!({"passed": true, "status": 200, "message": null})
    );

    let r = run(&[
        "predicate",
        "check",
        "--expr",
        EXPR,
        "--user",
        "bob",
        "--permission",
        "release",
        "--json",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.json(),
        serde_json::json!({"passed": false, "status": 403, "message": "Only QA may release"})
    );

    let r = run(&["predicate", "check", "--expr", "not_anonymous()", "--json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    assert_eq!(j["status"], 401);
    assert_eq!(
        j["message"],
        "The current user must have been authenticated"
    );
}

#[test]
fn parse_errors_give_the_position_and_exit_2() {
    let r = run(&["predicate", "check", "--expr", r#"all(in_group("qa") x)"#]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("1:20"), "{r:?}");
    let r = run(&["predicate", "check", "--expr", r#"is_user("bob"#]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!r.stderr.contains("panicked"));
}
